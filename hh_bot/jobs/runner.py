"""Drives every job from queue to a final state the user can see, and resumes them after a restart.

One dispatcher starts queued jobs fairly while fewer than the global cap of tasks are active at
the API; each started job runs in its own task: submit → poll (``waiting.py``) → download →
deliver (``handover.py``). The cap, the fair order and when each user was last served are the
store's (``Store.claim_next``), so they hold across bot processes sharing one database. The
store is the source of truth: each step is saved before the next one acts, so a restart knows
where every job stands (see ``resume``). Delivery is idempotent, which makes a repeated last
step harmless. A job that ends without a video is stored final together with the notice its
owner is owed, then told; a notice a crash interrupted is told on the next start, with the
same reason. Each job is driven by one process at a time: the runner holds its lease while it
drives it (``leasing.py``), takes over jobs whose lease expired, and stops driving a job whose
lease another process took (its next save raises ``LeaseLost``; nothing is told or delivered).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hh_bot.access.audit import EventSink, JobAdmitted
from hh_bot.api.client import CreateRequest, TaskState, TaskStatus
from hh_bot.clock import Clock
from hh_bot.errors import (
    DownloadError,
    HHError,
    JobCanceled,
    UnknownOutcome,
    UpstreamError,
)
from hh_bot.jobs.delivery import Delivery, link_expiry
from hh_bot.jobs.handover import Handover
from hh_bot.jobs.leasing import JobLeases, LeasedDelivery, LeaseLost, cancel_lost, drive
from hh_bot.jobs.model import Job, JobState
from hh_bot.jobs.notices import Endings
from hh_bot.jobs.polling import PollPlanner
from hh_bot.jobs.progress import ProgressPainter
from hh_bot.jobs.waiting import TaskWatch
from hh_bot.media.archive import Archive
from hh_bot.media.fit import Fitter
from hh_bot.store.interface import Store

log = logging.getLogger(__name__)

HANDOVER_WAIT = 2.0  # real seconds a cancel waits for a job admitted a moment ago
RECHECK = 1.0  # real seconds between looks for a slot another process freed, while jobs wait


class VideoApi(Protocol):
    async def create(self, req: CreateRequest) -> str: ...
    async def poll(self, task_id: str) -> TaskStatus: ...
    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int: ...


@dataclass(frozen=True)
class RunnerConfig:
    global_cap: int = 8
    per_user_cap: int = 2
    poll_deadline: float = 1200.0
    progress_interval: float = 5.0
    max_video_bytes: int = 200 * 1024 * 1024
    transfer_slots: int = 4
    submit_grace: float = 30.0  # real seconds a stop waits for creates already sent
    lease_length: float = 120.0  # clock seconds a job's lease lasts unless renewed


class Runner:
    def __init__(
        self,
        *,
        store: Store,
        api: VideoApi,
        delivery: Delivery,
        clock: Clock,
        planner: PollPlanner,
        config: RunnerConfig,
        tmp_dir: Path,
        fitter: Fitter | None = None,
        archive: Archive | None = None,
        events: EventSink | None = None,
    ) -> None:
        self._events = events  # the audit channel: told of each job admitted, never waited on
        self._store = store
        self._api = api
        self._delivery = delivery
        self._clock = clock
        self._config = config
        self._tmp_dir = tmp_dir
        self._leases = JobLeases(store, clock, config.lease_length)
        leased = LeasedDelivery(delivery, self._leases)  # what a job's own task tells
        self._progress = ProgressPainter(leased, clock, planner, config.progress_interval)
        self._watch = TaskWatch(
            api=api,
            clock=clock,
            planner=planner,
            progress=self._progress,
            poll_deadline=config.poll_deadline,
        )
        self._endings = Endings(store, delivery, clock)  # notices owed, cancels
        self._job_endings = Endings(store, leased, clock)
        self._handover = Handover(
            store=store,
            api=api,
            delivery=leased,
            clock=clock,
            tmp_dir=tmp_dir,
            max_video_bytes=config.max_video_bytes,
            slots=config.transfer_slots,
            fitter=fitter,
            archive=archive,
            finished_running=lambda: self._wake.set(),  # a slot under the global cap is free
        )
        self._wake = asyncio.Event()
        self._handed_over = asyncio.Condition()
        self._canceling = asyncio.Lock()
        self._queued: dict[str, Job] = {}
        self._active: dict[str, Job] = {}  # jobs whose task counts against the global cap
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._submits: set[asyncio.Future[Job | None]] = set()
        self._positions: dict[str, int] = {}
        self._painter: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()

    @property
    def lease_holder(self) -> str:
        """This runner's id in the store's job leases."""
        return self._leases.holder

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every unfinished job nobody else drives (an expired lease or none), then
        start dispatching and keeping the leases."""
        self._tmp_dir.mkdir(parents=True, exist_ok=True)
        for job, error in await self._endings.pending():
            self._spawn(job, self._endings.tell(job, error))
        while jobs := await self._leases.take_free(at_start=True):
            for job in jobs:
                await self.resume(job)
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name="hh-dispatcher")
        keep = self._leases.keep(self._lost, self._take_over)
        self._keeper = asyncio.create_task(keep, name="hh-leases")
        self._wake.set()

    async def stop(self) -> None:
        """Stop driving jobs; they stay in the store and resume on the next start.

        A create already on its way is waited for (up to ``submit_grace``): its answer turns
        the job from "submitting", which a restart can only fail, into one it can resume."""
        tasks = [
            t
            for t in (self._keeper, self._dispatcher, self._painter, *self._tasks.values())
            if t is not None
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._submits:
            _, late = await asyncio.wait(self._submits, timeout=self._config.submit_grace)
            for submit in late:
                submit.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        try:  # another process may take the jobs over at once, not a lease length later
            await self._leases.release_all()
        except Exception as error:
            log.warning("could not release the job leases (%r); they expire", error)

    async def resume(self, job: Job) -> None:
        """Drive ``job`` (whose lease this runner holds) on from where the store has it."""
        if job.state is JobState.QUEUED:
            self._queued[job.id] = job
        elif job.state is JobState.SUBMITTING:
            # The create may or may not have reached the API: never send it again.
            error = UnknownOutcome("interrupted while submitting", code="unknown")
            self._spawn(job, self._end(job, error))
        else:
            if job.state is JobState.RUNNING:
                self._active[job.id] = job
            self._spawn(job, self._finish(job, resumed=True))

    # -- public operations -------------------------------------------------------------------

    async def enqueue(self, job: Job) -> None:
        """Take a job that ``Quota.admit`` has stored as queued."""
        if await self._leases.take(job.id) is None:
            return  # another process took it over meanwhile: it drives it
        self._queued[job.id] = job
        if self._events is not None:
            self._events.emit(JobAdmitted(job))
        self._wake.set()
        async with self._handed_over:
            self._handed_over.notify_all()

    async def cancel(self, job_id: str) -> Job | None:
        """Cancel a job that is still queued; returns it, or None if it was already submitted
        (or is not queued at all)."""
        async with self._canceling:  # a second click waits for the first to be stored
            if job_id not in self._queued and job_id not in self._tasks:
                await self._await_handover(job_id)
            job = self._queued.pop(job_id, None)
            if job is None:
                return None
            error = JobCanceled("canceled")
            job = await self._endings.end(job, error, JobState.CANCELED)
            await self._leases.release(job.id)
        self._wake.set()
        await self._endings.tell(job, error)
        return job

    async def _await_handover(self, job_id: str) -> None:
        """A job is stored queued before its reply is posted and handed over after: a click
        on that reply can come in between, so wait for the hand-over (briefly)."""
        stored = await self._store.get_job(job_id)
        if stored is None or stored.state is not JobState.QUEUED:
            return
        with contextlib.suppress(TimeoutError):
            async with self._handed_over:
                await asyncio.wait_for(
                    self._handed_over.wait_for(
                        lambda: job_id in self._queued or job_id in self._tasks
                    ),
                    HANDOVER_WAIT,
                )

    def queue_position(self, job_id: str) -> int | None:
        return self._positions.get(job_id)

    @property
    def active_count(self) -> int:
        return len(self._active)

    # -- dispatching -------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while True:
            # Another process freeing a slot wakes nobody here: look again now and then.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RECHECK if self._queued else None)
            self._wake.clear()
            try:
                await self._dispatch()
            except Exception:
                log.exception("dispatcher step failed")
            self.idle.clear() if (self._queued or self._tasks) else self.idle.set()

    async def _dispatch(self) -> None:
        while self._queued:
            async with self._canceling:  # a job is either canceled or claimed, never both
                job = await self._store.claim_next(
                    list(self._queued),
                    global_cap=self._config.global_cap,
                    per_user_cap=self._config.per_user_cap,
                    now=self._clock.now(),
                    holder=self._leases.holder,
                    lease_until=self._leases.until(),
                )
                if job is None:
                    break
                self._leases.adopt(job.id)
                del self._queued[job.id]
            self._active[job.id] = job
            self._spawn(job, self._run(job))
        # Positions in the whole queue, every process's jobs; none to show when none is ours.
        order = await self._store.queue_order() if self._queued else []
        self._positions = {job_id: i for i, job_id in enumerate(order, start=1)}
        if self._painter is None or self._painter.done():
            paint = self._progress.paint_queue(lambda: self._positions, lambda: self._queued)
            self._painter = asyncio.create_task(paint, name="hh-positions")

    def _spawn(self, job: Job, coro: Awaitable[None]) -> None:
        task = asyncio.create_task(drive(self._leases, job.id, coro), name=f"hh-job-{job.id}")
        self._tasks[job.id] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.pop(job.id, None)
            self._active.pop(job.id, None)
            self._progress.forget(job.id)
            self._wake.set()
            if not finished.cancelled() and finished.exception() is not None:
                # e.g. the database stayed locked: the job resumes on the next start
                log.error("job %s stopped: %r", job.id, finished.exception())

        task.add_done_callback(done)

    # -- leases ------------------------------------------------------------------------------

    def _lost(self, job_ids: set[str]) -> None:
        """Stop driving jobs another process took over (this one was frozen past the lease)."""
        for job_id in job_ids:
            self._queued.pop(job_id, None)
            self._active.pop(job_id, None)
        cancel_lost(self._tasks, job_ids)
        self._wake.set()

    async def _take_over(self, jobs: list[Job]) -> None:
        """Drive jobs whose lease expired in another process, as a restart would."""
        for job in jobs:
            if job.id not in self._tasks and job.id not in self._queued:
                await self.resume(job)
        self._wake.set()

    # -- one job -----------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        # Shielded: stopping the runner must not cut a create off between sending it and
        # storing the task id it returns (see ``stop``).
        submit = asyncio.ensure_future(self._submit(job))
        self._submits.add(submit)
        submit.add_done_callback(self._submits.discard)
        running = await asyncio.shield(submit)
        if running is not None:
            # Best effort (``show`` never raises): the job is RUNNING in the store and only
            # this task polls it, so nothing Discord does may stop it here.
            await self._progress.show(running, force=True)
            await self._finish(running)

    async def _submit(self, job: Job) -> Job | None:
        """Send the create and store its task id; the running job, or None if it ended.

        The reply shows "submitting" while the create is on its way; that edit runs beside the
        create (a slow Discord must not delay it) and is awaited before anything is shown
        after it, so the reply never goes back to "submitting"."""
        if job.state is JobState.QUEUED:  # a claimed job is stored submitting already
            job = job.advance(JobState.SUBMITTING, self._clock.now())
            await self._store.save(job)
        await self._leases.check(job.id)  # the create is the one step never to repeat
        shown = asyncio.ensure_future(self._progress.show(job, force=True))
        try:
            task_id = await self._api.create(self._request(job))
        except HHError as error:
            await shown
            await self._end(job, error)
            return None
        except Exception as error:  # a bug or an odd transport error: a task may exist
            log.exception("job %s: create failed unexpectedly", job.id)
            await shown
            await self._end(job, UnknownOutcome(type(error).__name__, code="unknown"))
            return None
        except BaseException:  # cut off by a stop: the edit goes with it
            shown.cancel()
            raise
        await shown
        now = self._clock.now()
        job = job.advance(JobState.RUNNING, now, task_id=task_id, submitted_at=now)
        await self._store.save(job)
        self._active[job.id] = job
        return job

    @staticmethod
    def _request(job: Job) -> CreateRequest:
        p = job.params
        return CreateRequest(
            prompt=p.prompt,
            image_urls=p.image_urls,
            resolution=p.resolution,
            duration=p.duration,
            ratio=p.ratio,
            watermark=p.watermark,
            prompt_extend=p.prompt_extend,
            seed=p.seed,
        )

    async def _finish(self, job: Job, *, resumed: bool = False) -> None:
        """Poll to completion, download, deliver; every failure ends the job visibly.

        A resumed job that had already been told its video is ready fetches it again from the
        stored link (no poll): the deadline is for waiting on the API, not for a restart. A
        stored link that has expired (past its ``Expires``, or refused 403/404) is not the end:
        the task is polled again for a fresh one, as the API guide allows within 24 hours.
        """
        try:
            stored = job.state in (JobState.DOWNLOADING, JobState.DELIVERING) and job.result_url
            if stored and (job.task_id is None or not self._link_expired(job)):
                assert job.result_url is not None
                status = TaskStatus(
                    job.task_id or "", TaskState.SUCCEEDED, 100, "stored", job.result_url
                )
            else:
                if stored:
                    log.info("job %s: the stored video link has expired; polling again", job.id)
                status = await self._watch.until_done(job, resumed=resumed or bool(stored))
            self._active.pop(job.id, None)
            self._wake.set()
            try:
                job = await self._handover.fetch_and_deliver(job, status)
            except DownloadError as error:
                stale = status.raw_status == "stored" and error.status in (403, 404)
                if not stale or job.task_id is None:
                    raise
                log.info("job %s: the stored video link was refused; polling again", job.id)
                fresh = await self._watch.until_done(job, resumed=True)
                job = await self._handover.fetch_and_deliver(job, fresh)
        except LeaseLost:
            raise
        except HHError as error:
            await self._end(job, error)
        except Exception as error:
            log.exception("job %s failed unexpectedly", job.id)
            await self._end(job, UpstreamError(f"internal error: {type(error).__name__}"))

    def _link_expired(self, job: Job) -> bool:
        assert job.result_url is not None
        completed = job.completed_at or job.updated_at
        return link_expiry(job.result_url, completed) <= self._clock.now()

    async def _end(self, job: Job, error: HHError) -> None:
        """End the job without a video: stored final first, then its owner is told."""
        await self._job_endings.tell(await self._job_endings.end(job, error), error)
