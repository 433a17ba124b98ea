"""The progress gate edits only when something visible changed, at most once per interval."""

from __future__ import annotations

import pytest

from hh_bot.jobs.delivery import ProgressView
from hh_bot.jobs.model import Job, JobState
from hh_bot.jobs.polling import PollPlanner
from hh_bot.jobs.progress import ProgressGate, ProgressPainter
from tests.test_fairqueue import make_job

S = JobState


class ManualClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


def gate(interval: float = 5.0) -> tuple[ProgressGate, ManualClock]:
    clock = ManualClock()
    return ProgressGate(clock, interval), clock


def test_first_view_is_shown() -> None:
    g, _ = gate()
    assert g.should_show("j", ProgressView(S.RUNNING, 0))


def test_identical_view_is_not_shown() -> None:
    g, clock = gate()
    assert g.should_show("j", ProgressView(S.RUNNING, 10))
    assert not g.should_show("j", ProgressView(S.RUNNING, 10))
    clock.t += 60
    assert not g.should_show("j", ProgressView(S.RUNNING, 10))
    assert not g.should_show("j", ProgressView(S.RUNNING, 10), force=True)


def test_progress_change_inside_the_interval_waits() -> None:
    g, clock = gate(5.0)
    assert g.should_show("j", ProgressView(S.RUNNING, 10))
    clock.t += 4.9
    assert not g.should_show("j", ProgressView(S.RUNNING, 20))
    clock.t += 0.1  # exactly the interval since the last edit
    assert g.should_show("j", ProgressView(S.RUNNING, 30))
    clock.t += 1
    assert not g.should_show("j", ProgressView(S.RUNNING, 40))


def test_refused_views_do_not_restart_the_interval() -> None:
    g, clock = gate(5.0)
    assert g.should_show("j", ProgressView(S.RUNNING, 10))
    for progress in (11, 12, 13, 14):
        clock.t += 1
        assert not g.should_show("j", ProgressView(S.RUNNING, progress))
    clock.t += 1
    assert g.should_show("j", ProgressView(S.RUNNING, 15))


def test_state_change_is_shown_at_once() -> None:
    g, clock = gate(5.0)
    assert g.should_show("j", ProgressView(S.QUEUED, 0, queue_position=3))
    clock.t += 0.5
    assert g.should_show("j", ProgressView(S.SUBMITTING, 0))
    assert g.should_show("j", ProgressView(S.RUNNING, 0, eta=2000.0))
    assert g.should_show("j", ProgressView(S.DOWNLOADING, 100))


def test_queue_position_and_eta_are_visible_changes() -> None:
    g, clock = gate(5.0)
    assert g.should_show("j", ProgressView(S.QUEUED, 0, queue_position=3))
    clock.t += 6
    assert g.should_show("j", ProgressView(S.QUEUED, 0, queue_position=2))
    clock.t += 6
    assert g.should_show("j", ProgressView(S.QUEUED, 0, queue_position=2, eta=5.0))


def test_force_skips_the_interval() -> None:
    g, clock = gate(5.0)
    assert g.should_show("j", ProgressView(S.QUEUED, 0, queue_position=3))
    clock.t += 1
    assert g.should_show("j", ProgressView(S.QUEUED, 0, queue_position=2), force=True)
    clock.t += 1
    assert not g.should_show("j", ProgressView(S.QUEUED, 0, queue_position=1))


def test_jobs_are_gated_independently() -> None:
    g, _ = gate(5.0)
    assert g.should_show("a", ProgressView(S.RUNNING, 10))
    assert g.should_show("b", ProgressView(S.RUNNING, 10))
    assert not g.should_show("a", ProgressView(S.RUNNING, 20))


def test_forget_and_final_states_clear_the_record() -> None:
    g, _ = gate(5.0)
    assert g.should_show("j", ProgressView(S.RUNNING, 10))
    g.forget("j")
    assert g.should_show("j", ProgressView(S.RUNNING, 20))
    assert g.should_show("j", ProgressView(S.DONE, 100))
    assert g.should_show("j", ProgressView(S.RUNNING, 20))  # nothing remembered after the end


class BrokenDelivery:
    """A delivery whose edits raise what a network (or a bug) raises, not DeliveryError."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls = 0

    async def show_progress(self, job: Job, view: ProgressView) -> None:
        self.calls += 1
        raise self.error

    async def deliver(self, job: Job, result: object) -> int | None:
        raise AssertionError("not used")

    async def fail(self, job: Job, error: object) -> None:
        raise AssertionError("not used")


@pytest.mark.parametrize(
    "error", [ConnectionResetError(104, "reset"), TimeoutError(), RuntimeError("a bug")]
)
async def test_a_painter_never_raises_and_shows_the_next_change(error: BaseException) -> None:
    clock = ManualClock()
    delivery = BrokenDelivery(error)
    painter = ProgressPainter(delivery, clock, PollPlanner(), 5.0)  # type: ignore[arg-type]
    job = make_job("j", 1, clock.now()).advance(S.SUBMITTING, clock.now())
    assert await painter.show(job, force=True) is False
    assert await painter.show(job, force=True) is False  # forgotten: tried again, not skipped
    assert delivery.calls == 2
