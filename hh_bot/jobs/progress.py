"""Progress on a job's reply: when a view is worth an edit (on a state change at once,
otherwise only when something visible changed and the configured interval has passed since
the last edit), and the painting of it through the delivery."""

from __future__ import annotations

import logging
from collections.abc import Callable

from hh_bot.clock import Clock
from hh_bot.jobs.delivery import Delivery, DeliveryError, ProgressView
from hh_bot.jobs.model import Job, JobState
from hh_bot.jobs.polling import PollPlanner

log = logging.getLogger(__name__)


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


class ProgressPainter:
    """Paints a job's progress on its reply through the delivery, when the gate allows.

    ``show`` never raises (cancellation aside): progress is best effort, so a refused edit, a
    network failure or a bug in the delivery is logged and forgotten so the next change is
    shown; it must never end a job or kill its task. ``paint_queue`` keeps queued replies'
    positions current without ever editing one reply more than once per interval.
    """

    def __init__(
        self, delivery: Delivery, clock: Clock, planner: PollPlanner, interval: float
    ) -> None:
        self._delivery = delivery
        self._clock = clock
        self._planner = planner
        self._interval = interval
        self._gate = ProgressGate(clock, interval)
        self._painted: dict[str, int] = {}

    async def show(
        self, job: Job, *, queue_position: int | None = None, force: bool = False
    ) -> bool:
        """Show the job's progress if the gate allows; whether the reply was edited."""
        eta = None
        if job.state is JobState.RUNNING and job.submitted_at is not None:
            p = job.params
            eta = job.submitted_at + self._planner.expected(p.resolution, p.duration)
        view = ProgressView(job.state, job.progress, queue_position, eta)
        if not self._gate.should_show(job.id, view, force=force):
            return False
        try:
            await self._delivery.show_progress(job, view)
        except DeliveryError as error:
            self._gate.forget(job.id)  # not shown: the next change must be shown
            log.info("job %s: progress update not shown (%s)", job.id, error)
            return False
        except Exception as error:  # not expected of a delivery; still not the job's end
            self._gate.forget(job.id)
            log.warning("job %s: progress update failed (%s)", job.id, type(error).__name__)
            return False
        return True

    async def paint_queue(
        self, positions: Callable[[], dict[str, int]], queued: Callable[[], dict[str, Job]]
    ) -> None:
        """Repaint queued replies whose position moved until all show their current one.

        A reply edited less than an interval ago waits for a later round, so a long queue that
        keeps moving costs each reply at most one edit per interval."""
        while True:
            waiting = queued()
            self._painted = {k: v for k, v in self._painted.items() if k in waiting}
            stale = {
                job_id: position
                for job_id, position in positions().items()
                if self._painted.get(job_id) != position and job_id in waiting
            }
            if not stale:
                return
            for job_id, position in stale.items():
                job = queued().get(job_id)
                still = job is not None and positions().get(job_id) == position
                if still and job and await self.show(job, queue_position=position):
                    self._painted[job_id] = position
            await self._clock.sleep(self._interval / 2)

    def forget(self, job_id: str) -> None:
        """Drop what is remembered of a job that left the runner."""
        self._gate.forget(job_id)
        self._painted.pop(job_id, None)
