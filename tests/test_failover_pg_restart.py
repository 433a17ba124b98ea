"""PostgreSQL restarted mid-run: the bot keeps going.

The real bot (discord.py over the fake Discord, the fake HappyHorse behind it) runs on a
PostgreSQL server of the test's own, which the test shuts down (``pg_ctl stop -m fast``: every
connection is cut) while a job is in flight, and starts again. The job in flight ends once and
is charged once (its steps that failed while the database was gone are tried again on the
next poll; the pool replaces its dead connections); a /video sent while the database is down
gets a private answer within the 3 s Discord gives and reserves nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from cogs.ui import strings as s
from hh_bot.errors import HHError
from hh_bot.jobs.model import Job, JobState
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord_payloads import BOB_ID
from tests.fakes.happyhorse import TaskScript
from tests.pg_server import PgServer, own_server
from tests.waiting import eventually

pytestmark = pytest.mark.postgres

FACTOR = 50.0
TASK = TaskScript(duration=240.0)  # clock seconds: long enough to stop the server mid-task
DOWN_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


@dataclass(frozen=True)
class RestartOutcome:
    """What a restart mid-run left: the job in flight and the /video sent meanwhile."""

    state: str
    where: str  # the video on the progress reply, or posted in the channel
    ledger: tuple[str, ...]
    creates: int
    videos: int
    refused_answer: str
    refused_rows: int  # jobs and ledger entries of the /video sent during the outage


@asynccontextmanager
async def pg_world(tmp: Path) -> AsyncIterator[tuple[BotWorld, PgServer]]:
    with own_server() as pg:
        url = await pg.fresh_url()
        async with bot_world(
            tmp, script=TASK, factor=FACTOR, database_url=url, allow_errors=(HHError, *DOWN_ERRORS)
        ) as w:
            yield w, pg


async def restart_mid_run(tmp: Path) -> RestartOutcome:
    """A job running, the server stopped, the task's end seen by a poll, a /video sent, the
    server started."""
    async with pg_world(tmp) as (w, pg):
        handle = await w.video()
        job: Job = await eventually(lambda: _running(w), what="the job to run")
        await asyncio.to_thread(pg.halt)
        try:
            # the bot learns the task is done while the database is down: its next save waits
            [task] = list(w.hh.tasks.values())
            await eventually(
                lambda: any(p.at >= task.finishes_at for p in w.hh.polls()),
                timeout=60,
                what="a poll after the task's end",
            )
            refused = await w.video("character1 dances", user=BOB_ID)
            answer = await w.private_answer(refused, timeout=10)
        finally:
            await asyncio.to_thread(pg.resume)
        result = await w.outcome(handle, timeout=60)
        store = w.services.store
        final = await eventually(lambda: _final(w, job.id), timeout=30, what="the job's end")
        bob_jobs = [j for j in await store.jobs_in_states(list(JobState)) if j.user_id == BOB_ID]
        bob_ledger = [e for e in await store.ledger() if e.user_id == BOB_ID]
        return RestartOutcome(
            state=final.state.value,
            where="reply" if result is w.reply_of(handle) else "channel",
            ledger=tuple(e.kind for e in await store.ledger(job.id)),
            creates=w.creates(),
            videos=sum(1 for a in result.attachments if a.data == w.hh.video_bytes),
            refused_answer=answer,
            refused_rows=len(bob_jobs) + len(bob_ledger),
        )


async def _final(w: BotWorld, job_id: str) -> Job | None:
    job = await w.services.store.get_job(job_id)
    return job if job is not None and job.state.final else None


async def _running(w: BotWorld) -> Job | None:
    jobs = await w.services.store.jobs_in_states([JobState.RUNNING])
    return jobs[0] if jobs else None


EXPECTED = RestartOutcome(
    state="done",
    where="reply",
    ledger=("reserve", "commit"),
    creates=1,
    videos=1,
    refused_answer=s.INTERNAL,
    refused_rows=0,
)


async def test_postgres_restarted_mid_run_delivers_once_and_refuses_cleanly(
    tmp_path: Path,
) -> None:
    assert await restart_mid_run(tmp_path) == EXPECTED
