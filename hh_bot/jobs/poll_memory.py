"""The poll planner's learned task durations, kept in the store so a restart keeps the belief.

One row of the settings table per (resolution, duration) in scope ``planner``: key
``"720P/5"``, value the list of recent task durations in seconds (oldest first). Written once
per completed task (one small upsert, never per poll), read once at start.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Protocol

from hh_bot.store.errors import DATABASE_ERRORS

log = logging.getLogger(__name__)

SCOPE = "planner"
_STORE_FAILED: tuple[type[Exception], ...] = (*DATABASE_ERRORS, ValueError)  # ValueError: closed

Kind = tuple[str, int]  # (resolution, duration)


class SettingsStore(Protocol):
    async def settings_in(self, scope: str) -> dict[str, Any]: ...

    async def set_setting(self, scope: str, key: str, value: Any) -> None: ...


def key_of(kind: Kind) -> str:
    return f"{kind[0]}/{kind[1]}"


def kind_of(key: str) -> Kind | None:
    resolution, _, duration = key.rpartition("/")
    try:
        return (resolution, int(duration)) if resolution else None
    except ValueError:
        return None


class PollMemory:
    """Loads and saves the planner's observations; a failing store costs the memory, not a job."""

    def __init__(self, store: SettingsStore) -> None:
        self._store = store

    async def load(self) -> dict[Kind, list[float]]:
        try:
            rows = await self._store.settings_in(SCOPE)
        except _STORE_FAILED as error:
            log.warning("learned task durations not loaded (%s); starting from the prior", error)
            return {}
        out: dict[Kind, list[float]] = {}
        for key, value in rows.items():
            kind = kind_of(key)
            if kind is None or not isinstance(value, list):
                continue
            seconds = [float(v) for v in value if _is_duration(v)]
            if seconds:
                out[kind] = seconds
        return out

    async def save(self, kind: Kind, seconds: Sequence[float]) -> None:
        try:
            await self._store.set_setting(SCOPE, key_of(kind), [round(s, 2) for s in seconds])
        except _STORE_FAILED as error:
            log.warning("learned task durations not saved (%s)", error)


def _is_duration(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf
