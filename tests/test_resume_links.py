"""A job resumed after a restart whose stored video link has expired asks the task for a fresh
link instead of failing (the API hands one out within 24 hours of the task's end)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yarl

from hh_bot.jobs.model import Job, JobState
from tests.core_world import CoreWorld, _runner, core_world
from tests.fakes.happyhorse import TaskScript
from tests.fakes.recording_delivery import RecordingDelivery
from tests.waiting import eventually


async def _stalled_download(c: CoreWorld) -> Job:
    """A job whose task finished and whose download hangs: stored as downloading."""
    c.fake.download_faults.append("stall")
    job = await c.submit()
    await eventually(c.fake.downloads, what="the download request")
    stored = await c.store.get_job(job.id)
    assert stored is not None and stored.state is JobState.DOWNLOADING and stored.result_url
    return stored


async def _restart_after(c: CoreWorld, seconds: float) -> None:
    await c.runner.stop()
    c.clock.advance(seconds)
    c.delivery = RecordingDelivery()
    c.runner = _runner(c)
    await c.runner.start()


async def _final(c: CoreWorld, job_id: str) -> Job:
    async def probe() -> Job | None:
        job = await c.store.get_job(job_id)
        return job if job is not None and job.state.final else None

    return await eventually(probe, what="the job to end")


def _expires(url: str) -> int:
    return int(yarl.URL(url).query["Expires"])


async def test_a_resumed_job_whose_link_expired_polls_for_a_fresh_one(tmp_path: Path) -> None:
    async with core_world(
        tmp_path, script=TaskScript(duration=30), url_ttl=600.0, fresh_urls=True
    ) as c:
        job = await _stalled_download(c)
        polls = len(c.fake.polls())
        await _restart_after(c, 3600.0)  # the stored link died 50 minutes ago
        final = await _final(c, job.id)
        assert final.state is JobState.DONE
        [delivered] = c.delivery.delivered
        assert delivered.data == c.fake.video_bytes
        assert len(c.fake.polls()) == polls + 1
        assert job.result_url is not None and final.result_url is not None
        assert _expires(final.result_url) > _expires(job.result_url)
        assert len(c.fake.downloads()) == 2  # the expired link was not even tried
        assert await c.store.billed(job.id) == "delivered"


@pytest.mark.parametrize("refusal", ["403", "404"])
async def test_a_stored_link_refused_on_resume_polls_again(tmp_path: Path, refusal: str) -> None:
    async with core_world(tmp_path, script=TaskScript(duration=30), fresh_urls=True) as c:
        job = await _stalled_download(c)
        c.fake.download_faults.append(refusal)  # the storage refuses the stored link
        await _restart_after(c, 60.0)
        final = await _final(c, job.id)
        assert final.state is JobState.DONE and len(c.delivery.delivered) == 1
        assert len(c.fake.downloads()) == 3
        assert c.delivery.failures == []
