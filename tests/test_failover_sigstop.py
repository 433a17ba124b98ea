"""A lease holder frozen past its lease: another process takes the job over, and the frozen one,
resumed, notices and delivers nothing twice.

Two real bot processes on one PostgreSQL (shards 0 and 1 of 2; ``tests/scale_world.py``). The
process of shard 0 admits a /video and drives it; the test freezes it (SIGSTOP) while the task
runs. A lease length later (``LEASE_LENGTH``, short here) the other process takes the job over,
polls, and delivers the video. Then the frozen process is resumed (SIGCONT): its next renewal
or save finds the lease gone (the fence), and it stops driving the job. On the wire: one
create, one upload, one video message; in the ledger: reserve + commit.

The scenario runs once per suite, as the fault matrix's row ``sigstop-past-lease``
(tests/test_matrix_faults.py, through tests/scale_faults.py), which checks all of that; this
module keeps it and the lease's own tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from hh_bot.config import ConfigError, load_settings
from hh_bot.jobs.model import Job, JobState
from hh_bot.store import postgres
from hh_bot.store.errors import DATABASE_ERRORS
from hh_bot.store.factory import open_store
from tests.fakes.happyhorse import TaskScript
from tests.pg_server import PgServer
from tests.scale_world import ScaleWorld, scale_world
from tests.test_leases import T0, insert, make_job
from tests.waiting import eventually

# At 20x (not the scale world's 50x) the lease is 6 s of real time, which a loaded scheduler
# cannot let lapse for the live process between two renewals (2.4 s could), and the task ends
# ~11 s of real time before the interaction token's margin: the video lands on the reply
# however busy the machine is.
FACTOR = 20.0
LEASE = "120"  # clock seconds
TASK = TaskScript(duration=600.0)  # still running when the job is taken over


@dataclass(frozen=True)
class FrozenOutcome:
    state: str
    where: str  # the video on the progress reply, or posted in the channel
    ledger: tuple[str, ...]
    creates: int
    uploads: int
    video_messages: int
    taken_over: bool  # the second process said it took the job over
    frozen_stopped: bool  # the resumed process said it stopped driving the job


async def frozen_past_the_lease(tmp: Path, url: str) -> FrozenOutcome:
    async with scale_world(tmp, url, guilds=2, script=TASK, factor=FACTOR, LEASE_LENGTH=LEASE) as w:
        holder, other = await w.start("0"), await w.start("1")
        await w.ready()
        handle = await w.video(w.guild_ids[0])  # shard 0: the holder admits and drives it
        job = await eventually(lambda: _running(w), timeout=30, what="the job to run")
        holder.freeze()
        try:
            await eventually(lambda: other.said("took over"), timeout=60, what=w.output())
            final = await eventually(lambda: _final(w, job.id), timeout=60, what="the end")
            await eventually(lambda: w.uploads(job.id) >= 1, timeout=30, what="the upload")
        finally:
            holder.thaw()
        await eventually(lambda: holder.said("stopped here"), timeout=60, what="the fence")
        await holder.stop()  # whatever it would still do, it has done
        assert "Traceback" not in other.output, w.output()
        videos = w.videos_of(job.id)
        on_reply = bool(videos) and videos[0].interaction_token == handle.token
        return FrozenOutcome(
            state=final.state.value,
            where="reply" if on_reply else "channel",
            ledger=tuple(await w.ledger(job.id)),
            creates=len(w.hh.creates()),
            uploads=w.uploads(job.id),
            video_messages=len(w.videos_of(job.id)),
            taken_over=other.said("took over"),
            frozen_stopped=holder.said("stopped here"),
        )


async def _running(w: ScaleWorld) -> Job | None:
    jobs = await w.store.jobs_in_states([JobState.RUNNING])
    return jobs[0] if jobs else None


async def _final(w: ScaleWorld, job_id: str) -> Job | None:
    job = await w.store.get_job(job_id)
    return job if job is not None and job.state.final else None


@pytest.mark.postgres
async def test_a_transaction_left_open_by_a_frozen_process_is_ended_by_the_server(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The frozen process may stop inside a transaction holding the job's row: the takeover's
    ``SKIP LOCKED`` would skip that job for ever, but the server ends the idle transaction."""
    monkeypatch.setattr(postgres, "IDLE_TRANSACTION_TIMEOUT", 0.5)  # real seconds
    url = await pg_server.emptied_url()
    frozen, other = await open_store(url), await open_store(url)
    try:
        [job_id] = await insert(frozen, make_job(1, T0))
        assert await frozen.take_lease(job_id, "frozen", now=T0, until=T0 + 60) is not None
        locked = asyncio.Event()

        async def freeze_inside_a_transaction() -> None:
            async with frozen.transaction() as tx:
                await tx.conn.execute("SELECT id FROM jobs WHERE id = ? FOR UPDATE", (job_id,))
                locked.set()
                await asyncio.Event().wait()  # never resumes: SIGSTOP, as far as the server sees

        stuck = asyncio.create_task(freeze_inside_a_transaction())
        await asyncio.wait_for(locked.wait(), 30)
        later = T0 + 120  # the lease expired

        async def taken() -> list[Job]:
            return await other.take_free_leases(
                "other", now=later, until=later + 60, orphaned_before=later, at_start=False
            )

        [job] = await eventually(taken, timeout=30, what="the takeover of the locked job")
        assert job.id == job_id
        stuck.cancel()
        with contextlib.suppress(asyncio.CancelledError, *DATABASE_ERRORS):
            await stuck
    finally:
        await frozen.close()
        await other.close()


def test_lease_length_is_a_setting() -> None:
    base = {"DISCORD_TOKEN": "t", "APIYI_API_KEY": "k"}
    assert load_settings(base).lease_length == 120.0
    assert load_settings({**base, "LEASE_LENGTH": "30"}).lease_length == 30.0
    with pytest.raises(ConfigError, match="LEASE_LENGTH is malformed: expected seconds >= 1"):
        load_settings({**base, "LEASE_LENGTH": "0.5"})
