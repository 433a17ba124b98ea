"""Per-user defaults (/settings) and per-server rules (/hh-admin rules), and how a request's
parameters are chosen from them.

Precedence, lowest first: ``.env`` defaults, the server's defaults (``Policy.defaults``), the
member's own settings, the command's options. The server's rules (allowed resolutions, a maximum
duration) then win over all of them: a value outside the rules is capped to the nearest allowed
one, and what was capped is reported (``Chosen.capped``) so the member is told, never surprised
by the price. Rules never refuse a request: a cap is always possible.

User settings are the member's own, the same on every server (like a client preference):
stored as one small JSON document per user (``Store.user_settings``). Server rules live with
the other server policy in the ``settings`` table (scope ``guild:<id>``, key ``rules``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields, replace
from typing import Any

from hh_bot.access.policy import Policy, scope_of
from hh_bot.config import MAX_DURATION, MIN_DURATION, RESOLUTIONS, Defaults
from hh_bot.errors import BadInput
from hh_bot.jobs.request_checks import GenParams, clean_prompt, resolve_params
from hh_bot.store.interface import Store

MAX_SUFFIX = 300
"""A suffix is a habit ("cinematic lighting, 35 mm"), not a second prompt; this keeps the room
of a prompt (5000 weighted characters) for the prompt itself."""
DELIVERIES = ("channel", "dm")
FIELDS = ("resolution", "duration", "ratio", "watermark", "prompt_extend", "delivery", "suffix")
RULES_KEY = "rules"


@dataclass(frozen=True)
class UserSettings:
    """A member's defaults; None means "not set" (the server's default applies)."""

    resolution: str | None = None
    duration: int | None = None
    ratio: str | None = None
    watermark: bool | None = None
    prompt_extend: bool | None = None
    delivery: str | None = None
    """"channel" (as the product spec says) or "dm" (a DM is the first route tried)."""
    suffix: str | None = None
    """Appended to every prompt of the member's, after a space."""

    def to_json(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> UserSettings:
        """Tolerant of unknown keys (a newer version's) and of values no longer valid (a value
        that fails today's checks is dropped, not trusted)."""
        known = {k: v for k, v in (data or {}).items() if k in FIELDS}
        kept: dict[str, Any] = {}
        for name, value in known.items():
            try:
                kept.update(check_setting(name, value))
            except BadInput:
                continue
        return cls(**kept)

    @property
    def empty(self) -> bool:
        return not self.to_json()

    def defaults_over(self, server: Defaults) -> Defaults:
        """The server's defaults with the member's own settings laid over them."""
        mine = {
            name: value
            for name in ("resolution", "duration", "ratio", "watermark", "prompt_extend")
            if (value := getattr(self, name)) is not None
        }
        return replace(server, **mine)


@dataclass(frozen=True)
class ServerRules:
    """What a server allows, whatever anyone chooses."""

    resolutions: tuple[str, ...] = RESOLUTIONS
    max_duration: int = MAX_DURATION

    def to_json(self) -> dict[str, Any]:
        return {"resolutions": list(self.resolutions), "max_duration": self.max_duration}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ServerRules:
        if not data:
            return cls()
        allowed = tuple(r for r in RESOLUTIONS if r in (data.get("resolutions") or RESOLUTIONS))
        top = data.get("max_duration")
        if not (isinstance(top, int) and MIN_DURATION <= top <= MAX_DURATION):
            top = MAX_DURATION
        return cls(resolutions=allowed or RESOLUTIONS, max_duration=top)

    @property
    def unrestricted(self) -> bool:
        return self == ServerRules()

    def cap_defaults(self, defaults: Defaults) -> Defaults:
        """``defaults`` within the rules (what a member starts from, e.g. a modal's prefill)."""
        capped, _ = self.cap(resolve_params(defaults))
        return replace(defaults, resolution=capped.resolution, duration=capped.duration)

    def cap(self, params: GenParams) -> tuple[GenParams, tuple[str, ...]]:
        """``params`` within the rules, and the names of what had to change. A resolution not
        allowed becomes the highest allowed one below it, else the lowest allowed one."""
        capped: list[str] = []
        resolution = params.resolution
        if resolution not in self.resolutions:
            rank = RESOLUTIONS.index(resolution)
            below = [r for r in self.resolutions if RESOLUTIONS.index(r) < rank]
            resolution = below[-1] if below else self.resolutions[0]
            capped.append("resolution")
        duration = params.duration
        if duration > self.max_duration:
            duration = self.max_duration
            capped.append("duration")
        return replace(params, resolution=resolution, duration=duration), tuple(capped)


@dataclass(frozen=True)
class Chosen:
    """The parameters of one request once every layer had its say."""

    prompt: str
    """The prompt with the member's suffix, checked for length as a whole."""
    params: GenParams
    dm_first: bool
    capped: tuple[str, ...]
    """Which of "resolution", "duration" the server's rules lowered."""
    rules: ServerRules


def check_setting(name: str, value: Any) -> dict[str, Any]:
    """``{name: value}`` normalised, or ``BadInput`` (the same codes as /video where they
    overlap, so the same words answer)."""
    if name == "delivery":
        if value not in DELIVERIES:
            raise BadInput("settings_bad_delivery", field=name)
        return {name: value}
    if name == "suffix":
        return {name: clean_suffix(value)}
    if name in ("watermark", "prompt_extend"):
        if not isinstance(value, bool):
            raise BadInput("settings_bad_flag", field=name)
        return {name: value}
    if name not in FIELDS:
        raise BadInput("settings_unknown", field=name, params={"name": str(name)[:40]})
    params = resolve_params(Defaults(), **{name: value})  # the same range checks as /video
    return {name: getattr(params, name)}


def clean_suffix(value: Any) -> str:
    """A suffix as stored: control characters dropped, space trimmed, at most ``MAX_SUFFIX``."""
    if not isinstance(value, str):
        raise BadInput("settings_bad_suffix", field="suffix", params={"max": MAX_SUFFIX})
    kept = "".join(ch for ch in value if not unicodedata.category(ch).startswith("C")).strip()
    if not kept or len(kept) > MAX_SUFFIX:
        raise BadInput("settings_bad_suffix", field="suffix", params={"max": MAX_SUFFIX})
    return kept


class Preferences:
    """Reads and writes user settings and server rules; resolves a request's parameters."""

    def __init__(self, store: Store, policy: Policy) -> None:
        self._store = store
        self._policy = policy

    # -- the member's own ----------------------------------------------------------------------

    async def user(self, user_id: int) -> UserSettings:
        return UserSettings.from_json(await self._store.user_settings(user_id))

    async def update(
        self,
        user_id: int,
        changes: dict[str, Any],
        now: float,
        *,
        forget: tuple[str, ...] | None = None,
    ) -> UserSettings:
        """Forget ``forget`` (every setting when empty; nothing when None), then set
        ``changes``. Everything is checked before anything is stored: one bad value changes
        nothing."""
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            checked.update(check_setting(name, value))
        unknown = [n for n in forget or () if n not in FIELDS]
        if unknown:
            raise BadInput("settings_unknown", field="reset", params={"name": unknown[0][:40]})
        current = await self.user(user_id)
        if forget is not None:
            current = replace(current, **dict.fromkeys(forget)) if forget else UserSettings()
        merged = replace(current, **checked)
        await self._store.set_user_settings(user_id, merged.to_json() or None, now)
        return merged

    # -- the server's rules -------------------------------------------------------------------

    async def rules(self, guild_id: int | None) -> ServerRules:
        return ServerRules.from_json(await self._store.get_setting(scope_of(guild_id), RULES_KEY))

    async def set_rules(self, guild_id: int, rules: ServerRules) -> ServerRules:
        value = None if rules.unrestricted else rules.to_json()
        await self._store.set_setting(scope_of(guild_id), RULES_KEY, value)
        return rules

    # -- one request ----------------------------------------------------------------------------

    async def defaults(self, guild_id: int | None, user_id: int) -> Defaults:
        """The defaults a member's request starts from (a modal's prefill): server defaults
        under the member's settings, within the server's rules."""
        base = (await self.user(user_id)).defaults_over(await self._policy.defaults(guild_id))
        return (await self.rules(guild_id)).cap_defaults(base)

    async def choose(
        self,
        guild_id: int | None,
        user_id: int,
        prompt: str,
        options: dict[str, Any],
        *,
        add_suffix: bool = True,
    ) -> Chosen:
        """Options over the member's settings over the server's defaults, then the rules.

        ``add_suffix``: False for a prompt taken from a stored job (Retry, Remix, Continue),
        which carries its maker's suffix already; adding the clicker's would repeat it."""
        mine = await self.user(user_id)
        base = mine.defaults_over(await self._policy.defaults(guild_id))
        rules = await self.rules(guild_id)
        params, capped = rules.cap(resolve_params(base, **options))
        full = f"{prompt} {mine.suffix}" if mine.suffix and add_suffix else prompt
        return Chosen(
            prompt=clean_prompt(full),
            params=params,
            dm_first=mine.delivery == "dm",
            capped=capped,
            rules=rules,
        )
