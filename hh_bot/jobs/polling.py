"""When to poll a task: rarely while it cannot be done yet, often when it is likely to finish.

The planner keeps a belief about how long tasks take per (resolution, duration): a log-normal
around a prior made of the API's published facts (about two minutes for 720P/5 s), replaced by
the median and spread of what it has seen once it has a few observations. Each poll is placed
where the chance that the task finished since the previous poll reaches ``chance`` (the
conditional probability given it was still running then). That is sparse early, dense around
the expected completion, and bounded everywhere: never closer than the API's 3-second guidance,
at most ``sparse_cap`` apart before the expected completion (so an unusually fast task is not
left waiting) and at most ``interval`` apart once the task is overdue. Every delay carries a few
percent of jitter so tasks started together do not poll in bursts.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict, deque

from hh_bot.config import MIN_POLL_GAP

PRIOR_720P_5S = 115.0  # seconds; measured 105–125 s for 720P/5 s
HISTORY = 50
MIN_OBSERVATIONS = 5  # fewer, and the fastest of a concurrent batch would mislead it
PRIOR_SIGMA = 0.15  # log-normal spread of the prior
MIN_SIGMA = 0.06  # however consistent the observations, keep some doubt
SHRINK = 3.0  # observations worth as much as the prior's spread (small samples stay wide)
OUTLIER_SHARE = 0.1  # part of the belief given to a much wider spread: upstream hiccups
OUTLIER_WIDTH = 2.5
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def prior_duration(resolution: str, duration: int) -> float:
    """The API's reality before we have data: longer videos and 1080P take longer."""
    scale = 1.0 + 0.08 * (duration - 5)
    if resolution == "1080P":
        scale *= 1.6
    return max(40.0, PRIOR_720P_5S * scale)


def completion_hazard(elapsed: float, median: float, sigma: float) -> float:
    """Chance per second that a task still running after ``elapsed`` seconds finishes now.

    The belief is a mixture of a log-normal (``median``, ``sigma``) and a wider one for
    outliers, which keeps the hazard from exploding past the expected completion.
    """
    if elapsed <= 0.0 or median <= 0.0 or sigma <= 0.0:
        return 0.0
    density = survival = 0.0
    for share, spread in ((1.0 - OUTLIER_SHARE, sigma), (OUTLIER_SHARE, sigma * OUTLIER_WIDTH)):
        z = (math.log(elapsed) - math.log(median)) / spread
        density += share * math.exp(-0.5 * z * z) / (spread * elapsed * _SQRT2PI)
        survival += share * 0.5 * math.erfc(z / _SQRT2)
    if survival <= 1e-300:  # far in the tail: the wide part's asymptote
        spread = sigma * OUTLIER_WIDTH
        return (math.log(elapsed) - math.log(median)) / (spread * spread * elapsed)
    return density / survival


class PollPlanner:
    def __init__(
        self,
        *,
        first_delay: float = 15.0,
        interval: float = 7.0,
        chance: float = 0.09,
        sparse_cap: float = 45.0,
        min_gap: float = MIN_POLL_GAP,
        rng: random.Random | None = None,
    ) -> None:
        """``first_delay``: the first poll (catches tasks the API rejects at once);
        ``interval``: the longest gap once a task is overdue; ``chance``: the completion
        probability each poll is meant to cover; ``sparse_cap``: the longest gap before that."""
        self.min_gap = min_gap
        self.first_delay = max(_finite(first_delay, min_gap), min_gap)
        self.interval = max(_finite(interval, min_gap), min_gap)
        self.sparse_cap = max(_finite(sparse_cap, self.interval), self.interval)
        self.chance = min(max(_finite(chance, 0.09), 0.001), 1.0)
        self._rng = rng or random.Random()
        self._seen: dict[tuple[str, int], deque[float]] = defaultdict(lambda: deque(maxlen=HISTORY))

    def observe(self, resolution: str, duration: int, seconds: float) -> None:
        """Record how long a finished task took from submit to completion."""
        if 0 < seconds < math.inf:
            self._seen[(resolution, duration)].append(seconds)

    def belief(self, resolution: str, duration: int) -> tuple[float, float]:
        """(median seconds, log-normal spread) of how long such a task takes."""
        seen = self._seen.get((resolution, duration))
        n = len(seen) if seen else 0
        if seen is None or n < MIN_OBSERVATIONS:
            return prior_duration(resolution, duration), PRIOR_SIGMA
        logs = [math.log(s) for s in seen]
        centre = statistics.median(logs)
        spread = max(MIN_SIGMA, 1.4826 * statistics.median(abs(x - centre) for x in logs))
        doubt = PRIOR_SIGMA**2 * SHRINK / (n + SHRINK)
        return math.exp(centre), math.sqrt(spread**2 + doubt)

    def expected(self, resolution: str, duration: int) -> float:
        return self.belief(resolution, duration)[0]

    def window(self, resolution: str, duration: int) -> tuple[float, float, float]:
        """(10th percentile, median, 90th percentile) of the expected task duration."""
        median, sigma = self.belief(resolution, duration)
        spread = math.exp(1.2816 * sigma)
        return median / spread, median, median * spread

    def gap_at(self, elapsed: float, resolution: str, duration: int) -> float:
        """The gap (before floor and jitter) after a poll made ``elapsed`` seconds in."""
        median, sigma = self.belief(resolution, duration)
        cap = self.sparse_cap if elapsed < median else self.interval

        def gap(at: float) -> float:
            hazard = completion_hazard(max(at, 1e-3), median, sigma)
            return cap if hazard <= 0.0 else min(cap, self.chance / hazard)

        first = gap(elapsed)
        return gap(elapsed + first / 2.0)  # the hazard midway through the gap, not at its start

    def next_delay(self, elapsed: float, polls: int, resolution: str, duration: int) -> float:
        """Seconds to wait before the next poll, ``elapsed`` seconds after submit."""
        if polls <= 0:
            target = self.first_delay
        else:
            target = self.gap_at(max(_finite(elapsed, 0.0), 0.0), resolution, duration)
        delay = target * (1.0 + self._rng.uniform(-0.1, 0.1))
        if delay < self.min_gap:  # at the floor, spread upwards only
            delay = self.min_gap * (1.0 + abs(self._rng.uniform(-0.1, 0.1)))
        return delay

    def error_delay(self, consecutive_errors: int, retry_after: float | None = None) -> float:
        """Back off after failed polls: 3, 6, 12 … up to 60 s, or the server's Retry-After."""
        exponent = min(max(0, consecutive_errors - 1), 10)  # 2.0 ** 1024 overflows
        backoff = min(60.0, self.min_gap * 2.0**exponent)
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, 120.0))
        return max(self.min_gap, backoff)


def _finite(value: float, fallback: float) -> float:
    return value if math.isfinite(value) else fallback
