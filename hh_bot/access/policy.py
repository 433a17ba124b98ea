"""Per-server admin policy: limit overrides, bans, allowed channels, server defaults, admin role.

Stored as small JSON values in the store's ``settings`` table under the scope ``guild:<id>``
(``guild:0`` for direct messages). This module only reads and writes policy; ``quota.py`` (in
this package) applies it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from hh_bot.access.blocklist import BlockList, Matcher
from hh_bot.config import MAX_DURATION, MIN_DURATION, RATIOS, RESOLUTIONS, Defaults, Limits
from hh_bot.store.interface import Store

PERIODS = ("day", "month")


def scope_of(guild_id: int | None) -> str:
    return f"guild:{guild_id or 0}"


@dataclass(frozen=True)
class EffectiveLimits:
    user_day: int | None
    user_month: int | None
    guild_day: int | None
    guild_month: int | None


class Policy:
    def __init__(self, store: Store, limits: Limits, defaults: Defaults) -> None:
        self._store = store
        self._limits = limits
        self._defaults = defaults

    # -- limits ------------------------------------------------------------------------------

    async def set_limit(
        self, guild_id: int | None, target: str, period: str, amount: int | None
    ) -> None:
        """``target``: "user" (default for members), "guild", "role:<id>" or "member:<id>".

        ``amount`` in millidollars; ``None`` clears the override (back to the default).
        A negative amount is stored as "unlimited".
        """
        if period not in PERIODS:
            raise ValueError(period)
        value = None if amount is None else {"amount": amount if amount >= 0 else None}
        await self._store.set_setting(scope_of(guild_id), f"limit:{target}:{period}", value)

    async def effective_limits(
        self, guild_id: int | None, user_id: int, role_ids: Iterable[int]
    ) -> EffectiveLimits:
        values = await self._store.settings_in(scope_of(guild_id))

        def pick(key: str, default: int | None) -> int | None:
            entry = values.get(key)
            return default if entry is None else entry["amount"]

        def user_limit(period: str, default: int | None) -> int | None:
            member = values.get(f"limit:member:{user_id}:{period}")
            if member is not None:
                return member["amount"]  # type: ignore[no-any-return]
            roles = [values.get(f"limit:role:{r}:{period}") for r in role_ids]
            amounts = [r["amount"] for r in roles if r is not None]
            if amounts:  # the most generous role wins; None (unlimited) beats any number
                return None if None in amounts else max(amounts)
            return pick(f"limit:user:{period}", default)

        lim = self._limits
        return EffectiveLimits(
            user_day=user_limit("day", lim.user_daily),
            user_month=user_limit("month", lim.user_monthly),
            guild_day=pick("limit:guild:day", lim.guild_daily),
            guild_month=pick("limit:guild:month", lim.guild_monthly),
        )

    # -- bans and channels -------------------------------------------------------------------

    async def set_banned(self, guild_id: int | None, user_id: int, banned: bool) -> None:
        await self._store.set_setting(
            scope_of(guild_id), f"ban:{user_id}", True if banned else None
        )

    async def is_banned(self, guild_id: int | None, user_id: int) -> bool:
        return bool(await self._store.get_setting(scope_of(guild_id), f"ban:{user_id}"))

    async def allowed_channels(self, guild_id: int | None) -> list[int]:
        value = await self._store.get_setting(scope_of(guild_id), "channels")
        return [int(c) for c in value] if value else []

    async def set_channel_allowed(self, guild_id: int, channel_id: int, allowed: bool) -> list[int]:
        channels = set(await self.allowed_channels(guild_id))
        if allowed:
            channels.add(channel_id)
        else:
            channels.discard(channel_id)
        await self._store.set_setting(scope_of(guild_id), "channels", sorted(channels) or None)
        return sorted(channels)

    async def channel_allowed(
        self, guild_id: int | None, channel_id: int, parent_id: int | None = None
    ) -> bool:
        """Whether videos may be made in ``channel_id``: every channel when the server keeps no
        list. A thread (``parent_id`` is its channel's) is allowed where its channel is."""
        channels = await self.allowed_channels(guild_id)
        return not channels or channel_id in channels or parent_id in channels

    # -- blocked words and phrases -----------------------------------------------------------

    async def blocklist(self, guild_id: int | None) -> BlockList:
        return BlockList.from_stored(
            await self._store.get_setting(scope_of(guild_id), "blocklist") or ()
        )

    async def block(self, guild_id: int, raw: str) -> BlockList:
        """Add an entry (``RuleRefused`` if invalid, a duplicate or one too many)."""
        return await self._save_blocklist(guild_id, (await self.blocklist(guild_id)).adding(raw))

    async def unblock(self, guild_id: int, raw: str) -> BlockList:
        """Remove an entry (``RuleRefused(NOT_FOUND)`` if it is not there)."""
        return await self._save_blocklist(guild_id, (await self.blocklist(guild_id)).removing(raw))

    async def prompt_blocked(self, guild_id: int | None, prompt: str) -> bool:
        """Whether ``prompt`` matches one of the server's entries."""
        texts = (await self.blocklist(guild_id)).texts
        return bool(texts) and _matcher(texts).check(prompt).matched

    async def _save_blocklist(self, guild_id: int, blocklist: BlockList) -> BlockList:
        await self._store.set_setting(
            scope_of(guild_id), "blocklist", list(blocklist.texts) or None
        )
        return blocklist

    # -- server defaults and admin role ------------------------------------------------------

    async def defaults(self, guild_id: int | None) -> Defaults:
        value: dict[str, Any] | None = await self._store.get_setting(scope_of(guild_id), "defaults")
        return replace(self._defaults, **value) if value else self._defaults

    async def set_default(self, guild_id: int, name: str, value: Any) -> Defaults:
        checks = {
            "resolution": lambda v: v in RESOLUTIONS,
            "duration": lambda v: isinstance(v, int) and MIN_DURATION <= v <= MAX_DURATION,
            "ratio": lambda v: v in RATIOS,
            "watermark": lambda v: isinstance(v, bool),
            "prompt_extend": lambda v: isinstance(v, bool),
        }
        if name not in checks or not checks[name](value):
            raise ValueError(name)
        current: dict[str, Any] = (
            await self._store.get_setting(scope_of(guild_id), "defaults") or {}
        )
        current[name] = value
        await self._store.set_setting(scope_of(guild_id), "defaults", current)
        return await self.defaults(guild_id)

    async def admin_role(self, guild_id: int | None) -> int | None:
        value = await self._store.get_setting(scope_of(guild_id), "admin_role")
        return None if value is None else int(value)

    async def set_admin_role(self, guild_id: int, role_id: int | None) -> None:
        await self._store.set_setting(scope_of(guild_id), "admin_role", role_id)


@functools.lru_cache(maxsize=64)
def _matcher(texts: tuple[str, ...]) -> Matcher:
    """One server's matcher, built once per version of its list."""
    return BlockList.from_stored(texts).matcher()
