"""The poll planner's trade-off, computed rather than run: polls per task against detection lag.

The load phase's own tasks (``bench.workload.load_jobs``, same seed) are replayed through the
real :class:`~hh_bot.jobs.polling.PollPlanner` in simulated time: arrivals over the window,
every task polled on the planner's schedule, the planner learning from each completion it sees
(as the runner does), against the baseline's poll every 5 s. No processes, no sleeping: a few
milliseconds per setting, exact and repeatable, so a handful of settings draw the curve that the
full run (one setting, real processes) is one point of.

    python -m bench.poll_curve          # prints the curve for the default workload
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.metrics import percentile
from bench.workload import MIX, JobSpec, load_jobs
from hh_bot.config import Settings
from hh_bot.jobs.polling import PollPlanner

BASELINE_GAP = 5.0
DEADLINE = Settings.poll_deadline

# (label, planner settings) drawn on the curve; "default" is what the bot runs with. Growth is
# what the 60-poll ceiling needs (the tail of a task that runs to the deadline), and what slow
# tasks pay for; the dense interval and the early cap trade polls for lag on every task.
SETTINGS: tuple[tuple[str, dict[str, float]], ...] = (
    ("no growth: 3 s gaps to the deadline (no ceiling)", {"growth": 0.0, "interval": 3.0}),
    ("growth 0.05 s/s", {"growth": 0.05}),
    ("growth 0.1 s/s", {"growth": 0.1}),
    ("default: 4 s, growth 0.2 s/s, early cap 20 s", {}),
    ("growth 0.4 s/s", {"growth": 0.4}),
    ("dense 3 s", {"interval": 3.0}),
    ("dense 5 s", {"interval": 5.0}),
    ("early cap 12 s", {"sparse_cap": 12.0}),
    ("early cap 30 s", {"sparse_cap": 30.0}),
)


@dataclass(frozen=True)
class Point:
    label: str
    polls_per_task: float
    lag_p50: float
    lag_p95: float
    lag_max: float
    poll_cap: int  # polls of a task that runs to the deadline, the workload's worst kind

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "polls_per_task": round(self.polls_per_task, 2),
            "detect_lag_p50_s": round(self.lag_p50, 2),
            "detect_lag_p95_s": round(self.lag_p95, 2),
            "detect_lag_max_s": round(self.lag_max, 2),
            "poll_cap": self.poll_cap,
        }


Schedule = Callable[[JobSpec, float, int], float]  # (job, elapsed, polls) → delay


def replay(jobs: list[JobSpec], delay: Schedule, learn: Callable[[JobSpec, float], None]) -> Point:
    """Every job polled on ``delay`` until a poll lands at or after its completion."""
    due = [(job.arrival + delay(job, 0.0, 0), i) for i, job in enumerate(jobs)]
    heapq.heapify(due)
    polls = [0] * len(jobs)
    lags: list[float] = []
    last = [job.arrival for job in jobs]
    while due:
        at, i = heapq.heappop(due)
        job = jobs[i]
        polls[i] += 1
        elapsed = at - job.arrival
        if elapsed >= job.task_seconds:
            lags.append(elapsed - job.task_seconds)
            learn(job, (last[i] + at) / 2.0 - job.arrival)  # what the runner observes
            continue
        last[i] = at
        heapq.heappush(due, (at + delay(job, elapsed, polls[i]), i))
    return Point(
        "",
        statistics.fmean(polls),
        percentile(lags, 50),
        percentile(lags, 95),
        max(lags),
        0,
    )


def ours(jobs: list[JobSpec], label: str, seed: int, **settings: float) -> Point:
    planner = PollPlanner(rng=random.Random(seed), **settings)
    point = replay(
        jobs,
        lambda j, elapsed, polls: planner.next_delay(elapsed, polls, j.resolution, j.duration),
        lambda j, seconds: planner.observe(j.resolution, j.duration, seconds),
    )
    fresh = PollPlanner(**settings)
    cap = max(fresh.poll_cap(DEADLINE, r, d) for r, d, _ in MIX)
    return Point(label, point.polls_per_task, point.lag_p50, point.lag_p95, point.lag_max, cap)


def baseline(jobs: list[JobSpec]) -> Point:
    point = replay(jobs, lambda j, elapsed, polls: BASELINE_GAP, lambda j, seconds: None)
    cap = math.ceil(DEADLINE / BASELINE_GAP)
    return Point(
        "baseline (every 5 s)",
        point.polls_per_task,
        point.lag_p50,
        point.lag_p95,
        point.lag_max,
        cap,
    )


def bot_poll_cap() -> int:
    """Polls the bot (default settings, as the benchmark runs it) gives a task that runs to
    the deadline, for the workload's worst kind."""
    planner = PollPlanner(first_delay=Settings.poll_first_delay, interval=Settings.poll_interval)
    return max(planner.poll_cap(DEADLINE, r, d) for r, d, _ in MIX)


def baseline_poll_cap() -> int:
    """The baseline has no deadline; within the bot's 20 minutes it polls every 5 s."""
    return math.ceil(DEADLINE / BASELINE_GAP)


def curve(users: int, arrival_window: float, seed: int) -> dict[str, Any]:
    """The baseline and each setting of :data:`SETTINGS` on the load phase's tasks."""
    jobs = load_jobs(users, arrival_window, seed)
    base = baseline(jobs)
    points = [ours(jobs, label, seed, **settings) for label, settings in SETTINGS]
    return {"baseline": base.as_dict(), "ours": [p.as_dict() for p in points]}


def table(result: dict[str, Any]) -> str:
    base = result["baseline"]
    lines = [
        "| planner setting | polls/task | ÷ baseline | detect lag p50 / p95 / max | poll cap |",
        "|---|---:|---:|---:|---:|",
    ]
    for p in [base, *result["ours"]]:
        lines.append(
            f"| {p['label']} | {p['polls_per_task']:.1f} "
            f"| {p['polls_per_task'] / base['polls_per_task']:.2f} "
            f"| {p['detect_lag_p50_s']:.1f} / {p['detect_lag_p95_s']:.1f} / "
            f"{p['detect_lag_max_s']:.1f} s | {p['poll_cap']} |"
        )
    return "\n".join(lines)


def main() -> int:
    from bench.phases import BenchConfig

    cfg = BenchConfig()
    print(table(curve(cfg.users, cfg.arrival_window, cfg.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
