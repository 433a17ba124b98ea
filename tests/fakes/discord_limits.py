"""What real Discord validates and answers with: form limits, error bodies, and the faults a
test can inject (including 429s shaped so discord.py retries them)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.discord_payloads import JSON, MIB, UploadedFile, walk_components

NAME_RE = re.compile(r"^[-_\w]{1,32}$")
# Discord's locales (the only keys a *_localizations map may have)
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)
SEND_FLAGS = 4 | 4096 | 32768  # suppress embeds, silent, components v2
REQUEST_CAP = 25 * MIB


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> JSON:
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def form_error(errors: JSON) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


def add_error(errors: JSON, path: list[str | int], code: str, message: str) -> None:
    node = errors
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def validate_commands(commands: Any) -> JSON:
    """Errors (Discord's nested `errors` shape) for a bulk-overwrite body; empty when valid."""
    errors: JSON = {}
    if not isinstance(commands, list):
        add_error(errors, [], "BASE_TYPE_ARRAY", "Must be an array.")
        return errors
    if len(commands) > 100:
        add_error(errors, [], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    for i, cmd in enumerate(commands):
        ctype = cmd.get("type", 1)
        name = str(cmd.get("name", ""))
        if ctype == 1 and (not NAME_RE.match(name) or name != name.lower()):
            add_error(errors, [i, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid name.")
        elif not 1 <= len(name) <= 32:
            add_error(errors, [i, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32.")
        desc = str(cmd.get("description") or "")
        if ctype == 1 and not 1 <= len(desc) <= 100:
            add_error(
                errors, [i, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100."
            )
        if ctype != 1 and desc:
            add_error(errors, [i, "description"], "CONTEXT_MENU_DESCRIPTION", "Must be empty.")
        _validate_localisations(cmd, [i], errors, slash=ctype == 1)
        _validate_options(cmd.get("options") or [], [i, "options"], errors)
    return errors


def _validate_options(options: list[JSON], path: list[str | int], errors: JSON) -> None:
    if len(options) > 25:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    seen_optional = False
    for j, opt in enumerate(options):
        here = [*path, j]
        if not NAME_RE.match(str(opt.get("name", ""))):
            add_error(errors, [*here, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid name.")
        if not 1 <= len(str(opt.get("description") or "")) <= 100:
            add_error(errors, [*here, "description"], "BASE_TYPE_BAD_LENGTH", "Must be 1 to 100.")
        if len(opt.get("choices") or []) > 25:
            add_error(errors, [*here, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")
        _validate_localisations(opt, here, errors, slash=True)
        for k, choice in enumerate(opt.get("choices") or []):
            _validate_choice(choice, [*here, "choices", k], errors)
        if opt.get("type") in (1, 2):
            _validate_options(opt.get("options") or [], [*here, "options"], errors)
        elif opt.get("required"):
            if seen_optional:
                add_error(errors, here, "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Order.")
        else:
            seen_optional = True


def check_message(body: JSON, *, creating: bool, has_files: bool) -> None:
    errors: JSON = {}
    content = body.get("content")
    if content is not None and len(str(content)) > 2000:
        add_error(errors, ["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        add_error(errors, ["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        for key, cap in (("title", 256), ("description", 4096)):
            text = str(embed.get(key) or "")
            total += len(text)
            if len(text) > cap:
                add_error(errors, ["embeds", i, key], "BASE_TYPE_MAX_LENGTH", f"Max {cap}.")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            add_error(errors, ["embeds", i, "fields"], "BASE_TYPE_MAX_LENGTH", "Max 25.")
        total += sum(len(str(f.get("name", ""))) + len(str(f.get("value", ""))) for f in fields)
        total += len(str((embed.get("footer") or {}).get("text", "")))
    if total > 6000:
        add_error(errors, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds 6000.")
    components = body.get("components") or []
    v2 = int(body.get("flags") or 0) & 32768
    if not v2 and len(components) > 5:
        add_error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for comp in walk_components(components):
        if len(str(comp.get("custom_id", ""))) > 100:
            add_error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "custom_id max 100.")
        if not v2 and comp.get("type") == 1 and len(comp.get("components") or []) > 5:
            add_error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Max 5 per row.")
    if errors:
        raise form_error(errors)
    has_any = content or embeds or components or body.get("attachments") or body.get("poll")
    if creating and not (has_any or has_files or body.get("sticker_ids")):
        raise ApiError(400, 50006, "Cannot send an empty message")


def check_modal(data: JSON) -> None:
    errors: JSON = {}
    if not 1 <= len(str(data.get("custom_id") or "")) <= 100:
        add_error(errors, ["data", "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be 1 to 100.")
    if not 1 <= len(str(data.get("title") or "")) <= 45:
        add_error(errors, ["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be 1 to 45.")
    if not 1 <= len(data.get("components") or []) <= 5:
        add_error(errors, ["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be 1 to 5.")
    for comp in walk_components(data.get("components") or []):
        if len(str(comp.get("custom_id", ""))) > 100:
            add_error(errors, ["data", "components"], "BASE_TYPE_MAX_LENGTH", "custom_id max 100.")
    if errors:
        raise form_error(errors)


def check_files(files: list[UploadedFile], limit: int, request_size: int = 0) -> None:
    """Each file within the upload limit, and the whole request (files, JSON payload and the
    multipart framing: ``request_size``) within Discord's request cap: 25 MiB, or the upload
    limit where that is higher (boosts, Nitro)."""
    too_big = any(f.size > limit for f in files)
    whole = max(request_size, sum(f.size for f in files))
    if too_big or (files and whole > max(REQUEST_CAP, limit)):
        raise ApiError(413, 40005, "Request entity too large")


OLD_MESSAGE_AGE = 3600.0  # seconds after which Discord limits edits of a message (30046)


def check_edit_age(created_at: float, now: float) -> None:
    """Discord refuses edits of messages older than an hour once the bot has made too many of
    them; the fake refuses every one (the strict reading)."""
    if now - created_at > OLD_MESSAGE_AGE:
        raise ApiError(400, 30046, "Maximum number of edits to messages older than 1 hour reached.")


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    code: int
    message: str
    times: int
    retry_after: float

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and bool(self.pattern.search(path))

    def reply(self) -> tuple[int, JSON, dict[str, str]]:
        """The answer for one matching request (the caller drops the fault when used up)."""
        self.times -= 1
        if self.status != 429:
            return self.status, {"message": self.message, "code": self.code}, {}
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(self.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
            "X-RateLimit-Scope": "user",
        }
        body = {
            "message": self.message,
            "retry_after": self.retry_after,
            "global": False,
            "code": self.code,
        }
        return 429, body, headers


def _validate_localisations(
    item: JSON, path: list[str | int], errors: JSON, *, slash: bool
) -> None:
    """``name_localizations`` / ``description_localizations`` follow the base fields' rules:
    known locales only; a slash command's or option's localised name lowercase and matching
    Discord's name pattern (letters of any script, digits, - and _), 1–32 characters; a
    context menu's 1–32 characters of anything; descriptions 1–100 characters."""
    names = item.get("name_localizations") or {}
    descriptions = item.get("description_localizations") or {}
    for field_name, values in (
        ("name_localizations", names),
        ("description_localizations", descriptions),
    ):
        for locale in values:
            if locale not in LOCALES:
                add_error(errors, [*path, field_name, locale], "LOCALE_INVALID", "Invalid locale.")
    for locale, name in names.items():
        text = str(name)
        if slash and (not NAME_RE.match(text) or text != text.lower()):
            add_error(
                errors,
                [*path, "name_localizations", locale],
                "APPLICATION_COMMAND_INVALID_NAME",
                "Invalid name.",
            )
        elif not 1 <= len(text) <= 32:
            add_error(
                errors, [*path, "name_localizations", locale], "BASE_TYPE_BAD_LENGTH", "1 to 32."
            )
    for locale, desc in descriptions.items():
        if not 1 <= len(str(desc)) <= 100:
            add_error(
                errors,
                [*path, "description_localizations", locale],
                "BASE_TYPE_BAD_LENGTH",
                "Must be 1 to 100.",
            )


def _validate_choice(choice: JSON, path: list[str | int], errors: JSON) -> None:
    """A choice's name and each localised name: 1–100 characters, known locales."""
    if not 1 <= len(str(choice.get("name") or "")) <= 100:
        add_error(errors, [*path, "name"], "BASE_TYPE_BAD_LENGTH", "Must be 1 to 100.")
    for locale, name in (choice.get("name_localizations") or {}).items():
        if locale not in LOCALES:
            add_error(errors, [*path, "name_localizations", locale], "LOCALE_INVALID", "Invalid.")
        elif not 1 <= len(str(name)) <= 100:
            add_error(
                errors, [*path, "name_localizations", locale], "BASE_TYPE_BAD_LENGTH", "1 to 100."
            )
