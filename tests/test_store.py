"""The store on both backends (SQLite files and the suite's PostgreSQL, see ``conftest.py``):
migrations, jobs, settlement exactly once, reports, settings; SQLite's own pragmas and locks."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from hh_bot.jobs.model import Job, JobParams, JobState, ReplyTarget
from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from hh_bot.store.migrate import migrations
from hh_bot.store.sqlite import SqliteStore

MIGRATIONS = migrations("sqlite")

S = JobState
T0 = 1_700_000_000.0


def make_job(
    job_id: str,
    *,
    user_id: int = 1,
    guild_id: int | None = 100,
    cost: int = 630,
    created_at: float = T0,
    prompt: str = "a horse",
) -> Job:
    return Job(
        id=job_id,
        user_id=user_id,
        guild_id=guild_id,
        params=JobParams(prompt, ("https://x/a.png",), ("image 1",), "720P", 5, "16:9", False),
        reply=ReplyTarget(10, 20, "tok", created_at + 900),
        cost=cost,
        created_at=created_at,
        updated_at=created_at,
    )


async def insert(store: Store, *jobs: Job) -> None:
    for job in jobs:
        async with store.transaction() as tx:
            await tx.insert_job(job)


def finish(job: Job, state: JobState, now: float = T0 + 200) -> Job:
    job = job.advance(S.SUBMITTING, now - 150).advance(S.RUNNING, now - 149, task_id="t-" + job.id)
    if state is S.DONE:
        job = job.advance(S.DELIVERING, now - 1)
    return job.advance(state, now)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hh.sqlite3"


@pytest.fixture
async def sqlite_store(db_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(db_path)
    yield store
    await store.close()


async def test_migrations_applied_once_on_both(store_url: str) -> None:
    store = await open_store(store_url)
    assert await store.schema_version() == len(MIGRATIONS)
    await insert(store, make_job("keep"))
    await store.close()
    reopened = await open_store(store_url)  # must not re-run CREATE TABLE (it would fail)
    assert await reopened.schema_version() == len(MIGRATIONS)
    assert await reopened.get_job("keep") == make_job("keep")
    await reopened.close()


async def test_migrations_applied_once(db_path: Path) -> None:
    store = await SqliteStore.open(db_path)
    assert await store.schema_version() == len(MIGRATIONS)
    await insert(store, make_job("keep"))
    await store.set_setting("guild:1", "k", {"a": 1})
    await store.close()

    reopened = await SqliteStore.open(db_path)
    assert await reopened.schema_version() == len(MIGRATIONS)
    assert await reopened.get_job("keep") == make_job("keep")
    assert await reopened.get_setting("guild:1", "k") == {"a": 1}
    await reopened.close()

    with sqlite3.connect(db_path) as raw:
        versions = raw.execute("SELECT version FROM schema_version").fetchall()
    assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]


async def test_wal_mode(sqlite_store: SqliteStore, db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_busy_timeout_bounds_the_wait_for_another_writer(db_path: Path) -> None:
    """A write waits for another connection's write lock as long as the busy_timeout given to
    ``Store.open`` (or set later), then fails with "database is locked"."""
    store = await SqliteStore.open(db_path, busy_timeout=0.05)
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await store.set_setting("guild:1", "k", 1)
        assert time.monotonic() - started < 2.0, "waited as if for the 5 s default"

        await store.set_busy_timeout(5.0)
        asyncio.get_running_loop().call_later(0.2, other.execute, "COMMIT")  # the other writer
        await store.set_setting("guild:1", "k", 2)  # waits for the lock instead of failing
        assert await store.get_setting("guild:1", "k") == 2
    finally:
        other.close()
        await store.close()


async def test_insert_get_save(store: Store) -> None:
    job = make_job("a1")
    await insert(store, job)
    assert await store.get_job("a1") == job
    assert await store.get_job("missing") is None
    assert await store.charge_of("a1") == "reserved"

    running = job.advance(S.SUBMITTING, T0 + 1).advance(
        S.RUNNING, T0 + 2, task_id="task-9", submitted_at=T0 + 2, progress=30
    )
    await store.save(running)
    assert await store.get_job("a1") == running
    assert await store.charge_of("a1") == "reserved"
    assert [e.kind for e in await store.ledger("a1")] == ["reserve"]


async def test_full_record_round_trips(store: Store) -> None:
    job = make_job("a1", guild_id=None)
    await insert(store, job)
    done = finish(job, S.DONE).with_changes(
        T0 + 300, result_url="https://r/v.mp4", result_message_id=77, completed_at=T0 + 190
    )
    await store.save(done)
    assert await store.get_job("a1") == done
    failed = finish(make_job("a2"), S.FAILED).with_changes(
        T0 + 300, error_kind="TaskFailed", error_detail="DataInspectionFailed"
    )
    await insert(store, make_job("a2"))
    await store.save(failed)
    assert await store.get_job("a2") == failed


async def test_unfinished_jobs(store: Store) -> None:
    jobs = [make_job(f"j{i}", created_at=T0 + i) for i in range(5)]
    await insert(store, *reversed(jobs))
    await store.save(jobs[1].advance(S.SUBMITTING, T0 + 10))
    await store.save(finish(jobs[2], S.DONE))
    await store.save(jobs[3].advance(S.CANCELED, T0 + 10))
    await store.save(finish(jobs[4], S.EXPIRED))
    unfinished = await store.unfinished_jobs()
    assert [(j.id, j.state) for j in unfinished] == [("j0", S.QUEUED), ("j1", S.SUBMITTING)]


async def test_settlement_commit_exactly_once(store: Store) -> None:
    job = make_job("d1")
    await insert(store, job)
    done = finish(job, S.DONE)
    await store.save(done)
    await store.save(done)  # e.g. a resumed job saved again after a restart
    await store.save(done.with_changes(T0 + 999, result_message_id=5))
    entries = await store.ledger("d1")
    assert [(e.kind, e.amount) for e in entries] == [("reserve", 630), ("commit", 630)]
    assert await store.charge_of("d1") == "committed"


@pytest.mark.parametrize("state", [S.FAILED, S.EXPIRED])
async def test_failed_job_releases_once(store: Store, state: JobState) -> None:
    job = make_job("f1")
    await insert(store, job)
    ended = finish(job, state)
    await store.save(ended)
    await store.save(ended)
    assert [e.kind for e in await store.ledger("f1")] == ["reserve", "release"]
    assert await store.charge_of("f1") == "released"


async def test_canceled_job_releases(store: Store) -> None:
    job = make_job("c1")
    await insert(store, job)
    await store.save(job.advance(S.CANCELED, T0 + 5))
    assert [e.kind for e in await store.ledger("c1")] == ["reserve", "release"]


async def test_ledger_records_who_and_when(store: Store) -> None:
    job = make_job("l1", user_id=7, guild_id=9, cost=1120)
    await insert(store, job)
    await store.save(finish(job, S.DONE, now=T0 + 250))
    reserve, commit = await store.ledger("l1")
    assert (reserve.user_id, reserve.guild_id, reserve.amount, reserve.at) == (7, 9, 1120, T0)
    assert (commit.kind, commit.at) == ("commit", T0 + 250)


async def test_ledger_refuses_a_second_entry_of_a_kind(store: Store) -> None:
    job = make_job("u1")
    await insert(store, job)
    with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
        async with store.transaction() as tx:
            await tx.conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO ledger (job_id, user_id, guild_id, kind, amount, at, prompt)"
                " VALUES ('u1', 1, 100, 'reserve', 1, 0, '')"
            )
    assert len(await store.ledger("u1")) == 1


async def test_failed_transaction_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.insert_job(make_job("r1"))
            raise RuntimeError("boom")
    assert await store.get_job("r1") is None
    assert await store.ledger("r1") == []
    await insert(store, make_job("r2"))  # the connection is usable afterwards
    assert await store.get_job("r2") is not None


async def test_usage_report(store: Store) -> None:
    day = 86400.0
    a_done = make_job("a1", user_id=1, cost=630, created_at=T0 + 10)
    a_failed = make_job("a2", user_id=1, cost=630, created_at=T0 + 20)
    a_open = make_job("a3", user_id=1, cost=1120, created_at=T0 + 30)
    b_done = make_job("b1", user_id=2, cost=2000, created_at=T0 + 40)
    other_guild = make_job("g1", user_id=1, guild_id=999, cost=5000, created_at=T0 + 50)
    too_old = make_job("o1", user_id=1, cost=7000, created_at=T0 - day)
    await insert(store, a_done, a_failed, a_open, b_done, other_guild, too_old)
    for job in (a_done, b_done, other_guild, too_old):
        await store.save(finish(job, S.DONE))
    await store.save(finish(a_failed, S.FAILED))

    report = await store.usage_report(100, T0, T0 + day)
    rows = [(r.user_id, r.jobs, r.committed, r.reserved, r.possibly_billed) for r in report]
    # biggest spender first; a2's task ran before the job failed: possibly billed, not charged
    assert rows == [(2, 1, 2000, 0, 2000), (1, 3, 630, 1120, 1260)]

    everywhere = await store.usage_report(None, T0, T0 + day)
    assert [(r.user_id, r.committed) for r in everywhere] == [(1, 5630), (2, 2000)]
    assert await store.usage_report(100, T0 + day, T0 + 2 * day) == []


async def test_possibly_billed_apart_from_charged(store: Store) -> None:
    """Charged: delivered only. Possibly billed: every job whose task may have run or whose
    create's answer was lost, recorded once when it settles; never a failed task, a canceled
    job or a create that certainly made nothing."""
    now = T0 + 200
    submitted = make_job("x").advance(S.SUBMITTING, now - 150)
    ran = submitted.advance(S.RUNNING, now - 149, task_id="t-1")
    cases = {
        "done": (finish(make_job("done"), S.DONE), "delivered"),
        "deadline": (
            ran.advance(S.EXPIRED, now, error_kind="TaskExpired", error_detail="deadline"),
            "TaskExpired",
        ),
        "poll-401": (ran.advance(S.FAILED, now, error_kind="AuthError"), "AuthError"),
        "download": (
            ran.advance(S.DOWNLOADING, now - 2).advance(S.FAILED, now, error_kind="DownloadError"),
            "DownloadError",
        ),
        "lost-create": (
            submitted.advance(S.FAILED, now, error_kind="UnknownOutcome"),
            "unknown_outcome",
        ),
        "task-failed": (ran.advance(S.FAILED, now, error_kind="TaskFailed"), None),
        "refused": (submitted.advance(S.FAILED, now, error_kind="UpstreamError"), None),
        "canceled": (make_job("x").advance(S.CANCELED, now), None),
    }
    for job_id, (job, _) in cases.items():
        job = replace(job, id=job_id)
        await insert(store, replace(make_job(job_id)))
        await store.save(job)
        await store.save(job)  # settled once: a second save records nothing more
    for job_id, (_, reason) in cases.items():
        assert await store.billed(job_id) == reason, job_id
        expected = "committed" if job_id == "done" else "released"
        assert await store.charge_of(job_id) == expected
    [row] = await store.usage_report(100, T0, T0 + 86400)
    assert (row.committed, row.possibly_billed) == (630, 630 * 5)


async def test_settings_get_set_clear(store: Store) -> None:
    assert await store.get_setting("guild:1", "x") is None
    await store.set_setting("guild:1", "x", {"amount": 5})
    await store.set_setting("guild:1", "y", [1, 2])
    await store.set_setting("guild:2", "x", True)
    assert await store.get_setting("guild:1", "x") == {"amount": 5}
    await store.set_setting("guild:1", "x", {"amount": None})  # overwrite
    assert await store.get_setting("guild:1", "x") == {"amount": None}
    assert await store.settings_in("guild:1") == {"x": {"amount": None}, "y": [1, 2]}
    await store.set_setting("guild:1", "x", None)  # clear
    assert await store.get_setting("guild:1", "x") is None
    assert await store.settings_in("guild:1") == {"y": [1, 2]}
    assert await store.get_setting("guild:2", "x") is True


async def test_grants_by_guild_and_time(store: Store) -> None:
    await store.add_grant(100, 1, 500, T0, by=9)
    await store.add_grant(100, 1, 250, T0 + 100, by=9)
    await store.add_grant(None, 1, 40, T0, by=9)
    assert await store.granted(100, 1, T0) == 750
    assert await store.granted(100, 1, T0 + 50) == 250
    assert await store.granted(None, 1, T0) == 40
    assert await store.granted(100, 2, T0) == 0


async def test_user_jobs_and_states(store: Store) -> None:
    jobs = [make_job(f"j{i}", created_at=T0 + i, guild_id=100 + i % 2) for i in range(4)]
    await insert(store, *jobs)
    await insert(store, make_job("x", user_id=2))
    recent = await store.user_jobs(1, limit=3)
    assert [j.id for j in recent] == ["j3", "j2", "j1"]
    in_101 = await store.jobs_in_states([S.QUEUED], guild_id=101)
    assert [j.id for j in in_101] == ["j1", "j3"]


async def test_notices_are_kept_until_sent(store: Store) -> None:
    job = make_job("n1")
    await insert(store, job, make_job("n2"))
    failed = finish(job, S.FAILED).with_changes(T0 + 300, error_kind="TaskFailed")
    await store.save(failed, notice={"kind": "TaskFailed", "code": "x"})
    await store.save(failed, notice={"kind": "TaskFailed", "code": "y"})  # replaces, not twice
    assert await store.pending_notices() == [(failed, {"kind": "TaskFailed", "code": "y"})]
    await store.notice_sent("n1")
    assert await store.pending_notices() == []
    assert [e.kind for e in await store.ledger("n1")] == ["reserve", "release"]


async def test_two_processes_saving_one_final_job_settle_it_once(
    store: Store, store_url: str
) -> None:
    """Two store connections (two processes) save the same delivered job at the same moment,
    again and again: one commit in the ledger, and neither save fails."""
    second = await open_store(store_url)
    try:
        jobs = [make_job(f"s{i}") for i in range(10)]
        await insert(store, *jobs)
        done = [finish(job, S.DONE) for job in jobs]
        await asyncio.gather(*(s.save(job) for job in done for s in (store, second)))
        for job in jobs:
            assert [e.kind for e in await second.ledger(job.id)] == ["reserve", "commit"]
            assert await store.charge_of(job.id) == "committed"
    finally:
        await second.close()


async def test_a_snapshot_reads_while_another_process_writes(store: Store, store_url: str) -> None:
    """A read-only snapshot (``/quota``) neither waits for another process's write transaction
    nor sees what it has not committed."""
    await insert(store, make_job("w1"))
    second = await open_store(store_url)
    try:
        async with second.transaction() as tx:  # holds the write (admission) lock
            await tx.insert_job(make_job("w2"))
            async with store.snapshot() as snap:
                queued = snap.count_jobs(1, [S.QUEUED.value])
                assert await asyncio.wait_for(queued, 10) == 1
        async with store.snapshot() as snap:
            assert await snap.count_jobs(1, [S.QUEUED.value]) == 2
    finally:
        await second.close()
