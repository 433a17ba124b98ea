"""The dispatcher's shared state, kept in the store so that it holds across bot processes: how
many tasks are active at the API (the global cap), when each user was last served, and so the
fair order of the whole queue (``hh_bot/jobs/fairqueue.py`` decides the order; this module gives
it the store's view).

A job counts against the global cap from the moment it is claimed (stored ``submitting``, in
the same transaction that found a free slot) until it leaves ``running``; the claim runs in the
admission transaction (``Store.transaction``), so two processes can't both take the last slot.
"""

from __future__ import annotations

from collections.abc import Collection

from hh_bot.jobs.fairqueue import fair_order
from hh_bot.jobs.model import Job, JobState
from hh_bot.store.conn import Conn
from hh_bot.store.rows import JOB_COLUMNS, row_to_job
from hh_bot.store.tx import SqlTx

ACTIVE = (JobState.SUBMITTING.value, JobState.RUNNING.value)
"""The stored states of a job whose task is (or may be about to be) active at the API."""


async def active_per_user(conn: Conn) -> dict[int, int]:
    rows = await conn.fetchall(
        "SELECT user_id, COUNT(*) FROM jobs WHERE state IN (?, ?) GROUP BY user_id", ACTIVE
    )
    return {int(user): int(count) for user, count in rows}


async def last_served(conn: Conn) -> dict[int, float]:
    return {
        int(user): float(at) for user, at in await conn.fetchall("SELECT user_id, at FROM served")
    }


async def queued(conn: Conn) -> list[Job]:
    sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE state = ? ORDER BY created_at, id"
    return [row_to_job(r) for r in await conn.fetchall(sql, (JobState.QUEUED.value,))]


async def queue_order(conn: Conn) -> list[str]:
    """The ids of every queued job, in the order they will start."""
    return [job.id for job in fair_order(await queued(conn), await last_served(conn))]


async def _leased_elsewhere(conn: Conn, holder: str, now: float) -> set[str]:
    """Queued jobs another process holds a live lease on (taken over from this one)."""
    rows = await conn.fetchall(
        "SELECT id FROM jobs WHERE state = ? AND lease_holder <> ? AND lease_until > ?",
        (JobState.QUEUED.value, holder, now),
    )
    return {str(r[0]) for r in rows}


async def claim_next(
    conn: Conn,
    candidates: Collection[str],
    *,
    global_cap: int,
    per_user_cap: int,
    now: float,
    holder: str | None = None,
    lease_until: float | None = None,
) -> Job | None:
    """Store as submitting, and return, the first job in the fair order of the whole queue that
    is one of ``candidates`` (the caller's) and whose owner is below ``per_user_cap`` — if
    fewer than ``global_cap`` tasks are active; None otherwise. The caller holds the
    admission transaction. With a ``holder``, a candidate another process has taken over is
    skipped, and the claimed job's lease is the holder's until ``lease_until``."""
    per_user = await active_per_user(conn)
    if sum(per_user.values()) >= global_cap:
        return None
    theirs = await _leased_elsewhere(conn, holder, now) if holder is not None else set()
    for job in fair_order(await queued(conn), await last_served(conn)):
        if job.id in theirs:
            continue
        if job.id in candidates and per_user.get(job.user_id, 0) < per_user_cap:
            claimed = job.advance(JobState.SUBMITTING, now)
            await SqlTx(conn).update_job(claimed)
            if holder is not None:
                await conn.execute(
                    "UPDATE jobs SET lease_holder = ?, lease_until = ? WHERE id = ?",
                    (holder, lease_until, job.id),
                )
            await conn.execute(
                "INSERT INTO served (user_id, at) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET at = excluded.at",
                (job.user_id, now),
            )
            return claimed
    return None
