"""The last step of a job: fetch the finished video and hand it to its owner.

One transfer slot covers both directions (download, then upload), which bounds memory and
bandwidth. Between the two, the original goes into the archive (when there is one), so the
result outlives the API's 24-hour link; an archive that fails (disk full …) is logged and the
job goes on. The original is measured once (``FittedCopies.facts``) and the job record keeps
what it really is (``Job.video_facts``: duration, resolution, size). The delivery may ask for
copies fitted to a route's upload limit and, for a link, a poster frame (``FittedCopies``);
they and the download are removed when the handover ends, whatever happened.

Delivery is idempotent (each attempt first looks for what an earlier one may have
posted), so a ``DeliveryError`` — Discord unreachable on every route — is retried with growing
waits before the job is given up: a paid video is not thrown away over a short outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from hh_bot.api.client import TaskStatus
from hh_bot.clock import Clock
from hh_bot.errors import DownloadError, UnsafeLink
from hh_bot.jobs.delivery import Delivery, DeliveryError, ResultMessage, VideoResult, link_expiry
from hh_bot.jobs.fitting import FittedCopies
from hh_bot.jobs.model import Job, JobState, VideoFacts
from hh_bot.media.archive import Archive
from hh_bot.media.errors import MediaError
from hh_bot.media.fit import Fitter
from hh_bot.media.probe import MediaInfo
from hh_bot.store.interface import Store

log = logging.getLogger(__name__)

#: Seconds waited before each new delivery attempt after a ``DeliveryError`` (about 4 minutes
#: in all); the attempt after the last wait is the last one.
DELIVERY_RETRY_WAITS: tuple[float, ...] = (5.0, 15.0, 30.0, 60.0, 120.0)


class Downloader(Protocol):
    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int: ...


class Handover:
    def __init__(
        self,
        *,
        store: Store,
        api: Downloader,
        delivery: Delivery,
        clock: Clock,
        tmp_dir: Path,
        max_video_bytes: int,
        slots: int,
        retry_waits: tuple[float, ...] = DELIVERY_RETRY_WAITS,
        fitter: Fitter | None = None,
        archive: Archive | None = None,
        finished_running: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._api = api
        self._delivery = delivery
        self._clock = clock
        self._tmp_dir = tmp_dir
        self._max_video_bytes = max_video_bytes
        self._slots = asyncio.Semaphore(slots)
        self._retry_waits = retry_waits
        self._fitter = fitter
        self._archive = archive
        self._finished_running = finished_running

    async def fetch_and_deliver(self, job: Job, status: TaskStatus) -> Job:
        """Download the video, deliver it, and store the job done; raises what ends it."""
        assert status.video_url is not None
        now = self._clock.now()
        job = job.advance(
            JobState.DOWNLOADING,
            now,
            progress=100,
            completed_at=job.completed_at or now,
            result_url=status.video_url,
        )
        await self._store.save(job)
        self._finished_running()  # stored downloading: no longer counts against the global cap
        path = self._tmp_dir / f"{job.id}.mp4"
        async with self._slots:
            job, placed = await self._transfer(job, status.video_url, path, now)
        job = job.advance(
            JobState.DONE,
            self._clock.now(),
            result_message_id=placed.message_id if placed else None,
            result_channel_id=placed.channel_id if placed else None,
        )
        await self._store.save(job)
        return job

    async def _transfer(
        self, job: Job, url: str, path: Path, now: float
    ) -> tuple[Job, ResultMessage | None]:
        """Download the video, archive it, then hand it over; no progress edit in between,
        since the delivery's own edit follows at once (two edits in a moment only invite 429s)."""
        copies: FittedCopies | None = None
        try:
            size = await self._download(job, url, path)
            facts = None
            if size is not None and self._fitter is not None:
                copies = FittedCopies(self._fitter, path, size, label=job.id)
                facts = facts_of(await copies.facts())
            job = job.advance(JobState.DELIVERING, self._clock.now(), video_facts=facts)
            await self._store.save(job)
            if size is not None:
                await self._keep(job, path)
            result = VideoResult(
                url=url,
                url_expires_at=link_expiry(url, (job.completed_at or now)),
                file=path if size is not None else None,
                size=size,
                fitting=copies,
                poster=copies,
            )
            placed = await self._deliver(job, result)
        finally:
            try:
                if copies is not None:
                    await copies.aclose()
            finally:
                path.unlink(missing_ok=True)  # noqa: ASYNC240 - a local unlink doesn't block
        return job, placed

    async def _keep(self, job: Job, path: Path) -> None:
        """Archive the original; a failure costs the archived copy, never the job."""
        if self._archive is None:
            return
        try:
            stored = await self._archive.put(job.id, path)
        except MediaError as error:
            log.warning("job %s: original not archived (%s)", job.id, error.code)
            return
        log.info("job %s: original archived (%d bytes)", job.id, stored.size)

    async def _deliver(self, job: Job, result: VideoResult) -> ResultMessage | None:
        for wait in (*self._retry_waits, None):
            try:
                return await self._delivery.deliver(job, result)
            except DeliveryError as error:
                if wait is None:
                    raise
                log.info("job %s: delivery failed (%s); again in %g s", job.id, error, wait)
                await self._clock.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _download(self, job: Job, url: str, path: Path) -> int | None:
        """The file's size, or None when only the link can be delivered (e.g. too large)."""
        try:
            return await self._api.download(url, path, max_bytes=self._max_video_bytes)
        except DownloadError as error:
            if error.status is None and not isinstance(error, UnsafeLink):
                log.info("job %s: video not downloadable (%s), sending link", job.id, error)
                return None
            raise


def facts_of(info: MediaInfo | None) -> VideoFacts | None:
    """What the job record keeps of a measured file (the size is the file's on disk)."""
    if info is None:
        return None
    return VideoFacts(
        duration=round(info.duration, 3),
        width=info.width,
        height=info.height,
        size=info.size,
        audio=info.has_audio,
    )
