"""The benchmark's replay of the poll planner (``bench/poll_curve.py``): it must agree with what
a fixed poller costs by arithmetic, and put the bot's default on the cheap side of it."""

from __future__ import annotations

import math

from bench import poll_curve
from bench.workload import load_jobs


def test_the_baseline_replay_is_arithmetic() -> None:
    jobs = load_jobs(40, 30.0, seed=3)
    point = poll_curve.baseline(jobs)
    expected = sum(math.ceil(j.task_seconds / 5.0) for j in jobs) / len(jobs)
    assert point.polls_per_task == expected
    assert 0.0 <= point.lag_p50 <= point.lag_p95 <= point.lag_max < 5.0
    assert point.poll_cap == poll_curve.baseline_poll_cap() == 240


def test_the_default_is_cheaper_than_the_baseline_and_has_a_ceiling() -> None:
    result = poll_curve.curve(100, 30.0, seed=20240601)
    base = result["baseline"]
    by_label = {p["label"]: p for p in result["ours"]}
    default = next(p for label, p in by_label.items() if label.startswith("default"))
    assert default["polls_per_task"] <= 0.5 * base["polls_per_task"]
    assert default["poll_cap"] == poll_curve.bot_poll_cap() <= 60
    uncapped = by_label["no growth: 3 s gaps to the deadline (no ceiling)"]
    assert uncapped["poll_cap"] > 200  # what #9 found: polling at the floor until the deadline
    assert "| planner setting |" in poll_curve.table(result)


def test_the_replay_is_repeatable() -> None:
    assert poll_curve.curve(30, 10.0, seed=5) == poll_curve.curve(30, 10.0, seed=5)
