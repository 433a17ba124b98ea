"""Fair order: users take turns, so one user's burst cannot starve the others."""

from __future__ import annotations

from hh_bot.jobs.fairqueue import fair_order, next_to_start
from hh_bot.jobs.model import Job, JobParams, ReplyTarget

A, B, C = 1, 2, 3


def make_job(job_id: str, user_id: int, created_at: float) -> Job:
    return Job(
        id=job_id,
        user_id=user_id,
        guild_id=100,
        params=JobParams("p", ("https://x/a.png",), ("image 1",), "720P", 5, "16:9", False),
        reply=ReplyTarget(10, 20, "tok", created_at + 900),
        cost=630,
        created_at=created_at,
    )


def burst() -> list[Job]:
    """A submits five jobs, then B submits one."""
    jobs = [make_job(f"a{i}", A, float(i)) for i in range(1, 6)]
    return [*jobs, make_job("b1", B, 10.0)]


def ids(jobs: list[Job]) -> list[str]:
    return [j.id for j in jobs]


def test_later_user_starts_before_the_bursters_second_job() -> None:
    order = ids(fair_order(burst(), {}))
    assert order.index("b1") < order.index("a2")
    assert order == ["a1", "b1", "a2", "a3", "a4", "a5"]


def test_round_robin_over_three_users() -> None:
    jobs = [
        *(make_job(f"a{i}", A, float(i)) for i in range(1, 4)),
        *(make_job(f"b{i}", B, 10.0 + i) for i in range(1, 3)),
        make_job("c1", C, 20.0),
    ]
    assert ids(fair_order(jobs, {})) == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_least_recently_served_goes_first() -> None:
    order = ids(fair_order(burst(), {A: 50.0}))
    assert order == ["b1", "a1", "a2", "a3", "a4", "a5"]
    assert ids(fair_order(burst(), {A: 50.0, B: 60.0}))[0] == "a1"


def test_order_does_not_depend_on_input_order() -> None:
    jobs = burst()
    assert ids(fair_order(list(reversed(jobs)), {})) == ids(fair_order(jobs, {}))


def test_next_to_start_follows_fair_order() -> None:
    job = next_to_start(burst(), {}, {}, per_user_cap=2)
    assert job is not None and job.id == "a1"
    job = next_to_start(burst(), {A: 1.0}, {A: 1}, per_user_cap=2)
    assert job is not None and job.id == "b1"


def test_next_to_start_respects_the_per_user_cap() -> None:
    job = next_to_start(burst(), {}, {A: 2}, per_user_cap=2)
    assert job is not None and job.id == "b1"
    assert next_to_start(burst(), {}, {A: 2, B: 2}, per_user_cap=2) is None
    only_a = [j for j in burst() if j.user_id == A]
    assert next_to_start(only_a, {}, {A: 2}, per_user_cap=2) is None
    assert next_to_start(only_a, {}, {A: 1}, per_user_cap=2) is not None


def test_next_to_start_on_an_empty_queue() -> None:
    assert next_to_start([], {}, {}, per_user_cap=2) is None
    assert fair_order([], {}) == []


def test_positions_after_each_start() -> None:
    """Simulates the dispatcher: start one job at a time and read the positions of the rest."""
    queued = burst()
    served: dict[int, float] = {}
    started: list[str] = []
    clock = 100.0
    while queued:
        order = fair_order(queued, served)
        positions = {j.id: i for i, j in enumerate(order, start=1)}
        assert sorted(positions.values()) == list(range(1, len(queued) + 1))
        job = next_to_start(queued, served, {}, per_user_cap=1)
        assert job is not None and positions[job.id] == 1
        queued.remove(job)
        clock += 1
        served[job.user_id] = clock
        started.append(job.id)
    assert started == ["a1", "b1", "a2", "a3", "a4", "a5"]


def test_positions_for_a_user_who_arrives_late() -> None:
    queued = burst()
    order = fair_order(queued, {})
    positions = {j.id: i for i, j in enumerate(order, start=1)}
    assert positions["b1"] == 2
    assert positions["a5"] == 6
