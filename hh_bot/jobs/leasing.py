"""This process's side of job leases (``hh_bot/store/leases.py``): which jobs it drives, keeping
their leases alive, noticing when it lost one, and taking over the jobs of a process that died.

``keep`` runs beside the runner: every ``length * RENEW_FRACTION`` clock seconds it renews all
of this process's leases in one statement and looks for expired ones to take over. A renewal
that finds a job missing (another process took it over: this one was frozen past its lease) or
that could not reach the store for a whole lease length reports the jobs as lost; the runner
then stops driving them, silently. ``LeasedDelivery`` checks the lease before a video is
delivered (a failure is told right after the fenced save that stored it), so a process that
wakes up after its lease was taken never hands a video over twice; its next save of the job
raises ``LeaseLost`` anyway (the fence, ``hh_bot/store/leases.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from hh_bot.clock import Clock
from hh_bot.errors import HHError
from hh_bot.jobs.delivery import Delivery, ProgressView, ResultMessage, VideoResult
from hh_bot.jobs.model import Job
from hh_bot.store.interface import DRIVER, LeaseLost, Store, holder_id

__all__ = ["RENEW_FRACTION", "JobLeases", "LeaseLost", "LeasedDelivery", "cancel_lost", "drive"]

log = logging.getLogger(__name__)

RENEW_FRACTION = 0.25
"""Leases are renewed (and expired ones looked for) every this fraction of their length."""


class JobLeases:
    """The leases one runner holds; ``length`` is in clock seconds."""

    def __init__(
        self, store: Store, clock: Clock, length: float, holder: str | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.length = length
        self.holder = holder or holder_id()
        self._held: set[str] = set()
        self._renewed_at = clock.now()

    def until(self) -> float:
        return self.clock.now() + self.length

    def surely_holds(self, job_id: str) -> bool:
        """Held, as far as this process knows, and renewed less than a lease length ago (a
        process frozen past its lease can't be sure until it has asked the store)."""
        return job_id in self._held and self.clock.now() < self._renewed_at + self.length

    async def take(self, job_id: str) -> Job | None:
        """Take the lease of ``job_id``; the job as stored, or None if another process drives it
        (or it ended)."""
        now = self.clock.now()
        job = await self.store.take_lease(job_id, self.holder, now=now, until=now + self.length)
        if job is not None:
            self._held.add(job_id)
        return job

    def adopt(self, job_id: str) -> None:
        """Record a lease the store gave this process with a claim (``Store.claim_next``)."""
        self._held.add(job_id)

    async def take_free(self, *, at_start: bool = False) -> list[Job]:
        """Take over the jobs nobody drives (see ``Store.take_free_leases``)."""
        now = self.clock.now()
        jobs = await self.store.take_free_leases(
            self.holder,
            now=now,
            until=now + self.length,
            orphaned_before=now - self.length,
            at_start=at_start,
        )
        self._held.update(j.id for j in jobs)
        return jobs

    async def check(self, job_id: str) -> None:
        """Raise ``LeaseLost`` unless this process still holds ``job_id``'s lease (extends it)."""
        if not await self.store.holds_lease(job_id, self.holder, until=self.until()):
            self._held.discard(job_id)
            raise LeaseLost(job_id, None)

    async def release(self, job_id: str) -> None:
        self._held.discard(job_id)
        await self.store.release_leases(self.holder, [job_id])

    def forget(self, job_id: str) -> None:
        """Stop counting ``job_id`` as ours without touching the store (another process has it)."""
        self._held.discard(job_id)

    async def release_all(self) -> None:
        self._held.clear()
        await self.store.release_leases(self.holder)

    async def renew(self) -> set[str]:
        """Renew every lease; the ids this process thought it held but no longer does."""
        before = set(self._held)
        asked = self.clock.now()
        still = await self.store.renew_leases(self.holder, until=asked + self.length)
        self._renewed_at = asked
        lost = (before - still) & self._held
        self._held -= lost
        return lost

    async def keep(
        self,
        on_lost: Callable[[set[str]], None],
        on_taken: Callable[[list[Job]], Awaitable[None]],
    ) -> None:
        """Renew, report lost leases, take over expired ones; until cancelled."""
        while True:
            await self.clock.sleep(self.length * RENEW_FRACTION)
            lost: set[str] = set()
            try:
                lost = await self.renew()
            except Exception as error:
                if self.clock.now() >= self._renewed_at + self.length:
                    log.error("job leases not renewed for a lease length (%r): stopping", error)
                    lost, self._held = set(self._held), set()
                else:
                    log.warning("renewing job leases failed (%r); trying again", error)
            if lost:
                log.warning("jobs taken over by another process, stopped here: %s", sorted(lost))
                on_lost(lost)
            try:
                taken = await self.take_free()
            except Exception as error:
                log.warning("looking for jobs to take over failed (%r)", error)
                continue
            if taken:
                log.info("took over %d job(s): %s", len(taken), [j.id for j in taken])
                await on_taken(taken)


class LeasedDelivery:
    """A ``Delivery`` that tells or delivers only while this process holds the job's lease."""

    def __init__(self, inner: Delivery, leases: JobLeases) -> None:
        self._inner = inner
        self._leases = leases

    async def show_progress(self, job: Job, view: ProgressView) -> None:
        if self._leases.surely_holds(job.id):  # cosmetic: not worth a round trip
            await self._inner.show_progress(job, view)

    async def deliver(self, job: Job, result: VideoResult) -> ResultMessage | None:
        await self._leases.check(job.id)
        return await self._inner.deliver(job, result)

    async def fail(self, job: Job, error: HHError) -> None:
        # No round trip: a failure is told right after the job was stored final, a save the
        # lease fenced (``Endings.end``).
        await self._inner.fail(job, error)


def cancel_lost(tasks: dict[str, asyncio.Task[None]], lost: Iterable[str]) -> None:
    """Stop the tasks driving ``lost`` jobs."""
    for job_id in lost:
        task = tasks.get(job_id)
        if task is not None:
            task.cancel()


async def drive(leases: JobLeases, job_id: str, coro: Awaitable[None]) -> None:
    """Run a job's task under its lease: each save checks it (``DRIVER``), and the lease is
    released when the task ends; kept when the task is cancelled (the runner stopping releases
    them all; a lost lease is not ours to release)."""
    DRIVER.set(leases.holder)
    try:
        await coro
    except LeaseLost:
        leases.forget(job_id)
        log.warning("job %s: another process drives it now; stopped here", job_id)
        return
    except Exception:
        await _release_quietly(leases, job_id)
        raise
    await _release_quietly(leases, job_id)


async def _release_quietly(leases: JobLeases, job_id: str) -> None:
    try:
        await leases.release(job_id)
    except Exception as error:  # it expires
        log.warning("job %s: could not release its lease (%r)", job_id, error)
