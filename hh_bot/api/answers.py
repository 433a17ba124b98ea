"""Reading the HappyHorse API's answers: the body decoded, the task id found, and a refusal or a
transport failure turned into its typed error of ``hh_bot.errors``.

Every error text comes through ``AnswerReader``, which scrubs the API key and URL signatures
from it and keeps it short. Which create failures are safe to repeat is decided here (see the
money rule in ``hh_bot/api/client.py``); the client only follows the verdict.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from hh_bot.api.retry import is_balance_message, parse_retry_after
from hh_bot.clock import Clock
from hh_bot.errors import (
    ApiError,
    AuthError,
    DownloadError,
    ModerationBlocked,
    OutOfBalance,
    RejectedInput,
    Throttled,
    UnknownOutcome,
    UpstreamError,
)

RETRY_AFTER_CAP = 60.0
MAX_JSON_BYTES = 1 << 20
_MAX_TEXT = 300
_SIGNATURE = re.compile(r"(Signature=)[^&\s]+", re.IGNORECASE)
_XML_CODE = re.compile(rb"<Code>\s*([\w.]+)\s*</Code>")


@dataclass(frozen=True)
class Answer:
    """One complete HTTP answer of the API: ``body`` is the decoded JSON, or None."""

    status: int
    retry_after: str | None
    body: object
    raw: bytes


async def read_answer(resp: aiohttp.ClientResponse) -> Answer:
    """The answer, its body read up to ``MAX_JSON_BYTES``."""
    raw = await _read_limited(resp.content, MAX_JSON_BYTES)
    return Answer(resp.status, resp.headers.get("Retry-After"), decode_body(raw), raw)


def decode_body(raw: bytes) -> object:
    """JSON from a body that may be plain even when labelled gzip, or gzip despite identity."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, MAX_JSON_BYTES)
        except zlib.error:
            return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def task_id_from(answer: Answer) -> str:
    """The task id of a 2xx create answer (``output.task_id`` or ``task_id``).

    Raises ``UnknownOutcome`` without one: the API may have made a task all the same.
    """
    body = answer.body if isinstance(answer.body, Mapping) else {}
    output = body.get("output")
    task_id = output.get("task_id") if isinstance(output, Mapping) else None
    task_id = task_id if _is_id(task_id) else body.get("task_id")
    if not _is_id(task_id):
        raise UnknownOutcome(
            f"create answered HTTP {answer.status} without a task id; a task may exist",
            status=answer.status,
        )
    return str(task_id).strip()


def download_refusal(status: int, excerpt: bytes) -> DownloadError:
    """The error for a non-200 download, with the storage's XML error code when it gave one."""
    found = _XML_CODE.search(excerpt)
    code = f" {found.group(1).decode()}" if found else ""
    return DownloadError(
        f"the video link was refused (HTTP {status}{code}); it may have expired", status=status
    )


class AnswerReader:
    """Classifies refusals and describes failures, never letting ``key`` into the text."""

    def __init__(self, key: str, clock: Clock) -> None:
        self._key = key
        self._clock = clock

    def create_failure(self, answer: Answer) -> tuple[ApiError, bool]:
        """The error for a non-2xx create answer, and whether repeating the create is safe."""
        status = answer.status
        text, code, message = self._refusal("create", answer)
        if status == 400 and _is_moderation(code, message):
            return ModerationBlocked(text, status=status, code=code), False
        if status in (400, 413, 422):
            return RejectedInput(text, status=status, code=code), False
        if status == 401:
            return AuthError(text, status=status, code=code), False
        if status == 403:
            if _is_moderation(code, message):
                return ModerationBlocked(text, status=status, code=code), False
            return AuthError(text, status=status, code=code), False
        if status == 429:
            balance_text = (message or "") + " " + (code or "")
            if code and code.casefold().startswith("throttl"):
                balance_text = message or ""
            if is_balance_message(balance_text):
                return OutOfBalance(text, status=status, code=code), False
            return self._throttled(text, code, answer), True
        if status >= 500:
            if isinstance(answer.body, Mapping) and (
                (code or "").startswith("InvalidParameter") or "parse" in (message or "").lower()
            ):
                return RejectedInput(text, status=status, code=code), False
            # A JSON 500 is also what a gateway answers when its upstream call timed out after
            # sending: the task may exist and be billed, so a 5xx is never repeated.
            return UnknownOutcome(text + " (a task may exist)", status=status, code=code), False
        return UpstreamError(text, status=status, code=code, task_may_exist=False), False

    def poll_failure(self, answer: Answer) -> ApiError | None:
        """The error for a poll answered 401/403, 429 or 5xx; None for any other status."""
        status = answer.status
        if not (status in (401, 403) or status == 429 or status >= 500):
            return None
        text, code, _ = self._refusal("poll", answer)
        if status == 429:
            return self._throttled(text, code, answer)
        if status >= 500:
            return UpstreamError(text, status=status, code=code, task_may_exist=True)
        return AuthError(text, status=status, code=code)

    def describe(self, exc: BaseException) -> str:
        """A transport failure in a few scrubbed words: its type and message."""
        detail = str(exc)
        return self._scrub(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)

    def _refusal(self, what: str, answer: Answer) -> tuple[str, str | None, str | None]:
        """(scrubbed error text, code, message) for a non-2xx answer."""
        code, message = self._error_info(answer)
        text = f"{what} refused: HTTP {answer.status}" + (f" {code}" if code else "")
        return text + (f": {message}" if message else ""), code, message

    def _throttled(self, text: str, code: str | None, answer: Answer) -> Throttled:
        wait = parse_retry_after(answer.retry_after, cap=RETRY_AFTER_CAP, now=self._clock.now())
        return Throttled(text, retry_after=wait, code=code or "Throttling")

    def _error_info(self, answer: Answer) -> tuple[str | None, str | None]:
        body = answer.body
        code: object = None
        message: object = None
        if isinstance(body, Mapping):
            code, message = body.get("code"), body.get("message")
            error = body.get("error")
            if isinstance(error, Mapping):
                code = code or error.get("code") or error.get("type")
                message = message or error.get("message")
            elif isinstance(error, str):
                message = message or error
        elif answer.raw:
            message = answer.raw[:200].decode("utf-8", "replace").strip()
        return (
            self._scrub(str(code)) if code not in (None, "") else None,
            self._scrub(str(message)) if message not in (None, "") else None,
        )

    def _scrub(self, text: str) -> str:
        text = _SIGNATURE.sub(r"\1***", text.replace(self._key, "***"))
        return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _is_id(value: object) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _is_moderation(code: str | None, message: str | None) -> bool:
    text = f"{code or ''} {message or ''}".casefold()
    return any(m in text for m in ("datainspection", "inappropriate", "moderation"))


async def _read_limited(stream: aiohttp.StreamReader, limit: int) -> bytes:
    buf = bytearray()
    async for chunk in stream.iter_chunked(65536):
        buf += chunk
        if len(buf) > limit:
            break
    return bytes(buf)
