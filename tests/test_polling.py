"""The poll planner: the 3-second floor, sparse-then-dense polling, learning, error backoff."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from hh_bot.polling import PollPlanner, prior_duration

FLOOR = 3.0


class NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return 0.0


def planner(**kwargs: float) -> PollPlanner:
    return PollPlanner(rng=NoJitter(), **kwargs)


def test_never_below_three_seconds_whatever_the_inputs() -> None:
    rng = random.Random(20240601)
    for _ in range(300):
        p = PollPlanner(
            first_delay=rng.uniform(-10, 60),
            interval=rng.uniform(-10, 60),
            dense_gap=rng.uniform(-10, 60),
            rng=random.Random(rng.random()),
        )
        for _ in range(rng.randrange(0, 6)):
            p.observe("720P", rng.randint(3, 15), rng.choice([0.001, 1.0, rng.uniform(-5, 900)]))
        for _ in range(30):
            resolution = rng.choice(["720P", "1080P", "weird"])
            duration = rng.randint(-5, 30)
            elapsed = rng.uniform(-100, 5000)
            polls = rng.randrange(0, 500)
            assert p.next_delay(elapsed, polls, resolution, duration) >= FLOOR
            retry_after = rng.choice([None, math.nan, rng.uniform(-10, 1000)])
            errors = rng.randrange(-2, 5000)
            delay = p.error_delay(errors, retry_after)
            assert FLOOR <= delay <= 120.0


def test_first_poll_at_first_delay() -> None:
    assert planner(first_delay=15).next_delay(0.0, 0, "720P", 5) == 15.0
    assert planner(first_delay=1).next_delay(0.0, 0, "720P", 5) == FLOOR
    jittery = PollPlanner(first_delay=15, rng=random.Random(1))
    assert all(13.5 <= jittery.next_delay(0.0, 0, "720P", 5) <= 16.5 for _ in range(50))


def test_sparse_before_the_window() -> None:
    p = planner(interval=7)
    start, expected, end = p.window("720P", 5)
    assert start < expected < end
    delay = p.next_delay(15.0, 1, "720P", 5)
    assert delay == pytest.approx(start - 15.0)
    assert delay > 5 * p.interval  # one long wait, not a poll every few seconds
    assert p.next_delay(start - 1.0, 2, "720P", 5) == FLOOR  # never closer than the floor


def test_dense_inside_the_window_then_regular() -> None:
    p = planner(interval=7, dense_gap=4)
    start, expected, end = p.window("720P", 5)
    for elapsed in (start, expected, end - 0.1):
        assert p.next_delay(elapsed, 5, "720P", 5) == 4.0
    assert p.next_delay(end, 30, "720P", 5) == 7.0
    assert p.next_delay(end * 3, 60, "720P", 5) == 7.0


def test_prior_grows_with_duration_and_resolution() -> None:
    assert prior_duration("720P", 5) == pytest.approx(115.0)
    assert prior_duration("720P", 10) > prior_duration("720P", 5)
    assert prior_duration("1080P", 5) > prior_duration("720P", 5)
    assert prior_duration("720P", -100) >= 40.0
    p = planner()
    assert p.window("1080P", 15)[0] > p.window("720P", 5)[0]


def test_learned_window_after_observations() -> None:
    p = planner()
    prior = p.window("720P", 5)
    p.observe("720P", 5, 60.0)
    p.observe("720P", 5, 62.0)
    assert p.window("720P", 5) == prior  # two observations are not enough
    p.observe("720P", 5, 64.0)
    start, expected, end = p.window("720P", 5)
    assert expected == 62.0
    assert start == pytest.approx(60.0 * 0.95)
    assert end == pytest.approx(64.0 * 1.1)
    assert p.next_delay(15.0, 1, "720P", 5) == pytest.approx(start - 15.0)
    assert p.expected("720P", 5) == 62.0
    assert p.window("720P", 10) != (start, expected, end)  # learned per (resolution, duration)
    assert p.window("1080P", 5) != (start, expected, end)


def test_learning_ignores_outliers_and_forgets_old_data() -> None:
    p = planner()
    for seconds in [100.0] * 45 + [1.0, 2.0, 900.0, 950.0, 1000.0]:
        p.observe("720P", 5, seconds)
    start, expected, end = p.window("720P", 5)
    assert expected == 100.0
    assert start == pytest.approx(95.0)
    assert end == pytest.approx(110.0)
    for _ in range(50):
        p.observe("720P", 5, 50.0)
    assert p.expected("720P", 5) == 50.0
    p.observe("720P", 5, 0.0)  # nonsense is not recorded
    p.observe("720P", 5, -3.0)
    assert p.expected("720P", 5) == 50.0


def test_error_backoff_grows_to_a_cap() -> None:
    p = planner()
    delays = [p.error_delay(n) for n in range(1, 9)]
    assert delays == [3.0, 6.0, 12.0, 24.0, 48.0, 60.0, 60.0, 60.0]
    assert p.error_delay(0) == FLOOR
    assert p.error_delay(100_000) == 60.0  # no float overflow however long the outage


def test_error_backoff_honours_retry_after_with_a_cap() -> None:
    p = planner()
    assert p.error_delay(1, retry_after=30.0) == 30.0
    assert p.error_delay(5, retry_after=10.0) == 48.0  # backoff already longer
    assert p.error_delay(1, retry_after=0.5) == FLOOR
    assert p.error_delay(1, retry_after=10_000.0) == 120.0


# -- how many polls a task costs (a logic check, no sleeping) --------------------------------

Delays = Callable[[float, int], float]


def simulate(delays: Delays, task_seconds: float) -> tuple[int, float]:
    """Polls until one lands at or after completion; returns (polls, detection lag)."""
    elapsed, polls = 0.0, 0
    while True:
        elapsed += delays(elapsed, polls)
        polls += 1
        assert polls < 1000
        if elapsed >= task_seconds:
            return polls, elapsed - task_seconds


def fixed(gap: float) -> Delays:
    return lambda elapsed, polls: gap


def planned(p: PollPlanner, resolution: str = "720P", duration: int = 5) -> Delays:
    return lambda elapsed, polls: p.next_delay(elapsed, polls, resolution, duration)


@pytest.mark.parametrize("seed", range(20))
def test_prior_matched_task_needs_half_the_polls_of_a_fixed_poller(seed: int) -> None:
    baseline, _ = simulate(fixed(5.0), 120.0)
    assert baseline == 24
    ours, lag = simulate(planned(PollPlanner(rng=random.Random(seed))), 120.0)
    assert ours <= 0.5 * baseline
    assert lag <= 4.0 * 1.1  # still noticed within one dense gap (plus jitter)


@pytest.mark.parametrize("task_seconds", [105.0, 115.0, 125.0])
def test_measured_range_stays_cheap(task_seconds: float) -> None:
    baseline, _ = simulate(fixed(5.0), task_seconds)
    ours, lag = simulate(planned(PollPlanner(rng=random.Random(7))), task_seconds)
    assert ours <= 0.5 * baseline
    assert lag <= 4.4


def test_learned_timing_keeps_fast_tasks_cheap() -> None:
    p = PollPlanner(rng=random.Random(3))
    for seconds in (58.0, 60.0, 61.0, 63.0, 65.0):
        p.observe("720P", 5, seconds)
    baseline, _ = simulate(fixed(5.0), 60.0)
    ours, lag = simulate(planned(p), 60.0)
    assert ours <= 0.5 * baseline
    assert lag <= 4.4


def test_polls_are_never_closer_than_the_floor_in_a_long_run() -> None:
    p = PollPlanner(first_delay=0, interval=0, dense_gap=0, rng=random.Random(5))
    elapsed, polls = 0.0, 0
    while elapsed < 2000:
        delay = p.next_delay(elapsed, polls, "1080P", 15)
        assert delay >= FLOOR
        elapsed += delay
        polls += 1
