"""Waiting for a submitted task to end: polls on the planner's schedule, up to the deadline.

The planner says when to look next (``polling.py``); failed polls back off on their own
schedule, honouring ``Retry-After``. The deadline applies only after one poll, so a job resumed
after a long outage still finds the video that finished meanwhile. Each finish the runner saw
itself teaches the planner how long such tasks take; the progress the API reports is shown.
"""

from __future__ import annotations

import logging
from typing import Protocol

from hh_bot.api.client import TaskState, TaskStatus
from hh_bot.clock import Clock
from hh_bot.errors import TaskExpired, TaskFailed, Throttled, UpstreamError
from hh_bot.jobs.model import Job
from hh_bot.jobs.polling import PollPlanner
from hh_bot.jobs.progress import ProgressPainter

log = logging.getLogger(__name__)


class TaskPoller(Protocol):
    async def poll(self, task_id: str) -> TaskStatus: ...


class TaskWatch:
    def __init__(
        self,
        *,
        api: TaskPoller,
        clock: Clock,
        planner: PollPlanner,
        progress: ProgressPainter,
        poll_deadline: float,
    ) -> None:
        self._api = api
        self._clock = clock
        self._planner = planner
        self._progress = progress
        self._deadline = poll_deadline

    async def until_done(self, job: Job, *, resumed: bool) -> TaskStatus:
        """Poll until the task succeeds; its failure, expiry or the deadline raise."""
        assert job.task_id is not None
        submitted = job.submitted_at or job.created_at
        deadline = submitted + self._deadline
        polls = errors = 0
        retry_after: float | None = None
        p = job.params
        running_at = submitted  # the last poll that found the task still running
        while True:
            now = self._clock.now()
            if errors:
                delay = self._planner.error_delay(errors, retry_after)
            else:
                delay = self._planner.next_delay(now - submitted, polls, p.resolution, p.duration)
            if polls:
                if now >= deadline:
                    raise TaskExpired("deadline", code="deadline")
                delay = min(delay, deadline - now)
            await self._clock.sleep(delay)
            polls += 1
            asked_at = self._clock.now()
            try:
                status = await self._api.poll(job.task_id)
            except (UpstreamError, Throttled) as error:
                errors += 1
                retry_after = error.retry_after if isinstance(error, Throttled) else None
                log.info("poll of job %s failed (%s); retrying", job.id, type(error).__name__)
                continue
            errors = 0
            if status.state is TaskState.SUCCEEDED:
                if not resumed:  # a restart's gap says nothing about how long tasks take
                    # it finished since it was last seen running: take the middle
                    took = (running_at + asked_at) / 2.0 - submitted
                    await self._planner.learn(p.resolution, p.duration, took)
                return status
            if status.state is TaskState.FAILED:
                raise TaskFailed(status.error_message or "failed", code=status.error_code)
            if status.state is TaskState.EXPIRED:
                raise TaskExpired("task unknown or expired", code="expired")
            running_at = asked_at
            if status.progress != job.progress:
                job = job.with_changes(self._clock.now(), progress=status.progress)
                await self._progress.show(job)
