"""Decides when a progress view is worth an edit: on a state change at once, otherwise only
when something visible changed and the configured interval has passed since the last edit."""

from __future__ import annotations

from hh_bot.clock import Clock
from hh_bot.delivery import ProgressView


class ProgressGate:
    def __init__(self, clock: Clock, interval: float) -> None:
        self._clock = clock
        self._interval = interval
        self._last: dict[str, tuple[ProgressView, float]] = {}

    def should_show(self, job_id: str, view: ProgressView, *, force: bool = False) -> bool:
        now = self._clock.now()
        previous = self._last.get(job_id)
        if previous is not None:
            shown, at = previous
            if shown == view:
                return False
            if not force and shown.state == view.state and now - at < self._interval:
                return False
        self._last[job_id] = (view, now)
        if view.state.final:
            self._last.pop(job_id, None)
        return True

    def forget(self, job_id: str) -> None:
        self._last.pop(job_id, None)
