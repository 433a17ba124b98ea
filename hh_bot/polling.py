"""When to poll a task: sparse while it cannot be done yet, dense around when it should finish.

The planner learns how long tasks take per (resolution, duration) and starts from a prior made
of the API's published facts (about two minutes for 720P/5 s). Polls are never closer than the
API's 3-second guidance and carry a little jitter so concurrent tasks don't poll in bursts.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict, deque

from hh_bot.config import MIN_POLL_GAP

PRIOR_720P_5S = 115.0  # seconds; measured 105–125 s for 720P/5 s
HISTORY = 50


def prior_duration(resolution: str, duration: int) -> float:
    """The API's reality before we have data: longer videos and 1080P take longer."""
    scale = 1.0 + 0.08 * (duration - 5)
    if resolution == "1080P":
        scale *= 1.6
    return max(40.0, PRIOR_720P_5S * scale)


class PollPlanner:
    def __init__(
        self,
        *,
        first_delay: float = 15.0,
        interval: float = 7.0,
        dense_gap: float = 4.0,
        min_gap: float = MIN_POLL_GAP,
        rng: random.Random | None = None,
    ) -> None:
        self.first_delay = max(first_delay, min_gap)
        self.interval = max(interval, min_gap)
        self.dense_gap = max(dense_gap, min_gap)
        self.min_gap = min_gap
        self._rng = rng or random.Random()
        self._seen: dict[tuple[str, int], deque[float]] = defaultdict(lambda: deque(maxlen=HISTORY))

    def observe(self, resolution: str, duration: int, seconds: float) -> None:
        """Record how long a finished task took from submit to completion."""
        if seconds > 0:
            self._seen[(resolution, duration)].append(seconds)

    def window(self, resolution: str, duration: int) -> tuple[float, float, float]:
        """(start of dense polling, expected completion, end of dense polling), in seconds."""
        seen = self._seen.get((resolution, duration))
        if seen and len(seen) >= 3:
            ordered = sorted(seen)
            low = ordered[max(0, int(len(ordered) * 0.1) - 1)]
            high = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
            return low * 0.95, statistics.median(ordered), high * 1.1
        expected = prior_duration(resolution, duration)
        return expected * 0.8, expected, expected * 1.35

    def expected(self, resolution: str, duration: int) -> float:
        return self.window(resolution, duration)[1]

    def next_delay(self, elapsed: float, polls: int, resolution: str, duration: int) -> float:
        """Seconds to wait before the next poll, ``elapsed`` seconds after submit."""
        start, _, end = self.window(resolution, duration)
        if polls == 0:
            target = self.first_delay  # catches tasks the API rejects at once
        elif elapsed < start:
            target = start - elapsed
        elif elapsed < end:
            target = self.dense_gap
        else:
            target = self.interval
        jitter = self._rng.uniform(-0.1, 0.1) * min(target, 10.0)
        return max(self.min_gap, target + jitter)

    def error_delay(self, consecutive_errors: int, retry_after: float | None = None) -> float:
        """Back off after failed polls: 3, 6, 12 … up to 60 s, or the server's Retry-After."""
        exponent = min(max(0, consecutive_errors - 1), 10)  # 2.0 ** 1024 overflows
        backoff = min(60.0, self.min_gap * 2.0**exponent)
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, 120.0))
        return max(self.min_gap, backoff)
