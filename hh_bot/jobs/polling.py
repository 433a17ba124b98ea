"""When to poll a task: rarely while it cannot be done yet, every few seconds around its
expected finish, less and less often once it is far overdue, with a ceiling on the total.

The planner keeps a belief about how long tasks take per (resolution, duration): a log-normal
around a prior made of the API's published facts (about two minutes for 720P/5 s), replaced by
the median and spread of what it has seen once it has a few observations (kept in the store
through ``hh_bot.jobs.poll_memory``, so a restart does not throw them away).

The schedule follows the API's guidance (first poll after ~15 s, then every 5–10 s, never
closer than 3 s):

* the first poll comes after ``first_delay``;
* before the expected finish (the belief's median) each poll is placed where the chance that
  the task finished since the previous poll reaches ``chance``, which is sparse early (at most
  ``sparse_cap`` apart, or a tenth of the expected duration for long tasks, never more than
  ``max_gap``, so an unusually fast task is not left waiting long) and dense near the expected
  finish, never closer than ``interval``;
* after it the gap stays at ``interval`` until about 70 % of such tasks would have finished,
  then grows by ``growth`` seconds per second overdue, up to ``max_gap``: a task that runs to
  the 20-minute deadline costs at most ~60 polls (:meth:`PollPlanner.poll_cap`), not the ~260
  of polling at the floor. The belief's median counts as at most five minutes (the API's
  longest), so the ceiling holds whatever was learned.

Every delay carries ±10 % jitter so tasks started together do not poll in bursts, and none is
shorter than the API's 3-second floor. The progress the API reports is not used: upstream only
reports 0/10/30/100 and sits at 30 for most of the run, so it says "started", not "how far".
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping

from hh_bot.config import MIN_POLL_GAP
from hh_bot.jobs.poll_memory import Kind, PollMemory

PRIOR_720P_5S = 115.0  # seconds; measured 105–125 s for 720P/5 s
LONGEST_EXPECTED = 300.0  # the API's "1–5 minutes": past this a task is overdue, whatever was seen
HISTORY = 50
MIN_OBSERVATIONS = 5  # fewer, and the fastest of a concurrent batch would mislead it
PRIOR_SIGMA = 0.15  # log-normal spread of the prior
MIN_SIGMA = 0.06  # however consistent the observations, keep some doubt
SHRINK = 3.0  # observations worth as much as the prior's spread (small samples stay wide)
OUTLIER_SHARE = 0.1  # part of the belief given to a much wider spread: upstream hiccups
OUTLIER_WIDTH = 2.5
LATE_Z = 0.5  # the gap starts growing once ~70 % of such tasks would have finished
JITTER = 0.1  # every delay is spread by ±10 %
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
        interval: float = 4.0,
        chance: float = 0.09,
        sparse_cap: float = 20.0,
        growth: float = 0.2,
        max_gap: float = 30.0,
        min_gap: float = MIN_POLL_GAP,
        rng: random.Random | None = None,
        memory: PollMemory | None = None,
    ) -> None:
        """``first_delay``: the first poll (catches tasks the API rejects at once);
        ``interval``: the gap around the expected finish; ``chance``: the completion
        probability each poll before it is meant to cover; ``sparse_cap``: the longest gap
        before it; ``growth``: seconds added to the gap per second overdue, up to ``max_gap``;
        ``memory``: where learned durations are kept across restarts."""
        self.min_gap = min_gap
        self.first_delay = max(_finite(first_delay, min_gap), min_gap)
        self.interval = max(_finite(interval, min_gap), min_gap)
        self.sparse_cap = max(_finite(sparse_cap, self.interval), self.interval)
        self.max_gap = max(_finite(max_gap, self.sparse_cap), self.interval)
        self.growth = min(max(_finite(growth, 0.2), 0.0), 10.0)
        self.chance = min(max(_finite(chance, 0.09), 0.001), 1.0)
        self._rng = rng or random.Random()
        self._memory = memory
        self._seen: dict[Kind, deque[float]] = defaultdict(lambda: deque(maxlen=HISTORY))

    # -- learning -------------------------------------------------------------------------

    def observe(self, resolution: str, duration: int, seconds: float) -> bool:
        """Record how long a finished task took from submit to completion (False: ignored)."""
        if not 0 < seconds < math.inf:
            return False
        self._seen[(resolution, duration)].append(seconds)
        return True

    async def learn(self, resolution: str, duration: int, seconds: float) -> None:
        """:meth:`observe`, then keep the kind's observations in the memory (one write)."""
        if self.observe(resolution, duration, seconds) and self._memory is not None:
            await self._memory.save((resolution, duration), self.history(resolution, duration))

    async def recall(self) -> int:
        """Load what the memory kept (at start); the number of kinds restored."""
        if self._memory is None:
            return 0
        loaded = await self._memory.load()
        self.restore(loaded)
        return len(loaded)

    def history(self, resolution: str, duration: int) -> list[float]:
        """The observations the belief is made of, oldest first."""
        return list(self._seen.get((resolution, duration), ()))

    def restore(self, history: Mapping[Kind, Iterable[float]]) -> None:
        """Replace the observations of each kind in ``history`` (nonsense values dropped)."""
        for kind, seconds in history.items():
            kept = [s for s in seconds if 0 < s < math.inf]
            self._seen[kind] = deque(kept[-HISTORY:], maxlen=HISTORY)

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

    # -- the schedule ---------------------------------------------------------------------

    def gap_at(self, elapsed: float, resolution: str, duration: int) -> float:
        """The gap (before floor and jitter) after a poll made ``elapsed`` seconds in."""
        median, sigma = self.belief(resolution, duration)
        median = min(median, LONGEST_EXPECTED)
        if elapsed >= median:  # overdue: back off steadily, whatever the belief's tail says
            late = median * math.exp(LATE_Z * sigma)
            return min(self.max_gap, self.interval + self.growth * max(0.0, elapsed - late))

        sparse = min(max(self.sparse_cap, median / 10.0), self.max_gap)  # long tasks: longer

        def gap(at: float) -> float:
            hazard = completion_hazard(max(at, 1e-3), median, sigma)
            wanted = sparse if hazard <= 0.0 else self.chance / hazard
            return min(sparse, max(self.interval, wanted))

        first = gap(elapsed)
        return gap(elapsed + first / 2.0)  # the hazard midway through the gap, not at its start

    def next_delay(self, elapsed: float, polls: int, resolution: str, duration: int) -> float:
        """Seconds to wait before the next poll, ``elapsed`` seconds after submit."""
        if polls <= 0:
            target = self.first_delay
        else:
            target = self.gap_at(max(_finite(elapsed, 0.0), 0.0), resolution, duration)
        delay = target * (1.0 + self._rng.uniform(-JITTER, JITTER))
        if delay < self.min_gap:  # at the floor, spread upwards only
            delay = self.min_gap * (1.0 + abs(self._rng.uniform(-JITTER, JITTER)))
        return delay

    def poll_cap(self, deadline: float, resolution: str, duration: int) -> int:
        """Polls a task that never finishes gets until ``deadline`` (the runner's last poll
        lands on the deadline) on the nominal schedule; jitter averages out, so a real run
        lands within a couple of polls of it."""
        at = self.first_delay
        polls = 1
        while at < deadline:
            at = min(at + max(self.gap_at(at, resolution, duration), self.min_gap), deadline)
            polls += 1
        return polls

    def error_delay(self, consecutive_errors: int, retry_after: float | None = None) -> float:
        """Back off after failed polls: 3, 6, 12 … up to 60 s, or the server's Retry-After."""
        exponent = min(max(0, consecutive_errors - 1), 10)  # 2.0 ** 1024 overflows
        backoff = min(60.0, self.min_gap * 2.0**exponent)
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, 120.0))
        return max(self.min_gap, backoff)


def _finite(value: float, fallback: float) -> float:
    return value if math.isfinite(value) else fallback
