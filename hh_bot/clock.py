"""Time as the core sees it: wall-clock seconds plus a sleep, injectable for tests and benchmarks.

``ScaledClock`` runs virtual time ``factor`` times faster than real time, so a two-minute task
and its 5-second poll interval take 1.2 s and 50 ms of real time at ``factor=100`` while every
rule (the 3-second poll floor, the 15-minute token life) keeps its real-world value.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (virtual for scaled clocks)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Virtual time starting at the real time of creation and running ``factor`` times faster."""

    def __init__(
        self, factor: float, *, start: float | None = None, origin: float | None = None
    ) -> None:
        """``start``: virtual time at ``origin`` (a ``time.monotonic()`` reading, default now).

        Two processes given the same three values share one virtual timeline, since the
        monotonic clock is system-wide.
        """
        if factor <= 0:
            raise ValueError("factor must be positive")
        self.factor = factor
        self._origin_real = time.monotonic() if origin is None else origin
        self._origin_virtual = time.time() if start is None else start
        self._offset = 0.0

    @property
    def origin(self) -> tuple[float, float]:
        """(virtual start, monotonic origin), to share this timeline with another process."""
        return self._origin_virtual + self._offset, self._origin_real

    def now(self) -> float:
        elapsed = time.monotonic() - self._origin_real
        return self._origin_virtual + elapsed * self.factor + self._offset

    def advance(self, seconds: float) -> None:
        """Jump virtual time forward without waiting (e.g. to cross a day boundary)."""
        self._offset += seconds

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.factor)
