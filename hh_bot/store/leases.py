"""Job leases in the store: every job is driven by exactly one bot process at a time.

A lease is two columns of ``jobs``: ``lease_holder`` (a process's id, ``holder_id``) and
``lease_until`` (clock seconds). A runner takes the lease of each job it drives (when it
enqueues, claims or resumes it), renews all of its leases at once while it drives them
(``renew``), and releases each at the end (``release``). A lease not renewed in time is
*expired*: another process takes it over (``take_free``) and resumes the job as a restart does.

Taking over uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes scanning at once never
both take one job, and a row being written is skipped rather than waited for; SQLite is one
process, so its write transaction is enough.

The fence: a job's task runs with ``DRIVER`` set to its holder id, and every save of the job
(``SqlTx.update_job``) checks, on the locked row, that the lease is still the task's
(``check_fence``); a process that lost the lease (frozen past it, say) raises ``LeaseLost`` at
its next write instead of overwriting what the new holder did.
"""

from __future__ import annotations

from collections.abc import Collection

from hh_bot.jobs.model import Job, JobState
from hh_bot.store.conn import Conn
from hh_bot.store.interface import DRIVER, UNFINISHED, LeaseLost, holder_id
from hh_bot.store.rows import JOB_COLUMNS, row_to_job

__all__ = ["DRIVER", "LEASE_COLUMNS", "LeaseLost", "check_fence", "holder_id", "release", "renew"]

LEASE_COLUMNS = ("lease_holder", "lease_until")
"""The columns of ``jobs`` after ``JOB_FIELDS`` (V6): not part of a ``Job`` record."""

TAKE_BATCH = 50
"""Jobs one scan takes over at most (the rest on the next scan)."""


def check_fence(job_id: str, row_holder: str | None) -> None:
    """Raise ``LeaseLost`` when the current task drives ``job_id`` but ``row_holder`` (read from
    the locked row) is not its lease."""
    driver = DRIVER.get()
    if driver is not None and row_holder != driver:
        raise LeaseLost(job_id, row_holder)


def _marks(values: Collection[object]) -> str:
    return ",".join("?" * len(values))


async def take(conn: Conn, job_id: str, holder: str, *, now: float, until: float) -> Job | None:
    """Take the lease of one unfinished job if it is free, expired or already ours; the job as
    stored, or None (another live holder, or it ended)."""
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    rows = await conn.fetchall(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND state IN ({_marks(UNFINISHED)})"
        " AND (lease_holder IS NULL OR lease_holder = ? OR lease_until <= ?)" + lock,
        (job_id, *UNFINISHED, holder, now),
    )
    if not rows:
        return None
    await conn.execute(
        "UPDATE jobs SET lease_holder = ?, lease_until = ? WHERE id = ?", (holder, until, job_id)
    )
    return row_to_job(rows[0])


async def take_free(
    conn: Conn,
    holder: str,
    *,
    now: float,
    until: float,
    orphaned_before: float,
    everything: bool = False,
    limit: int = TAKE_BATCH,
) -> list[Job]:
    """Take the leases of unfinished jobs nobody drives: expired leases, and jobs with none
    (past queued ones only when created before ``orphaned_before``: a queued job has no lease
    for the moment between its admission and its hand-over to the admitting process's runner).
    ``everything``: every unfinished job not ours (a single process starting: any other holder
    is a dead predecessor). The jobs taken, oldest first."""
    if everything:
        free = "(lease_holder IS NULL OR lease_holder <> ?)"
        args: tuple[object, ...] = (holder,)
    else:
        free = (
            "((lease_holder IS NOT NULL AND lease_holder <> ? AND lease_until <= ?)"
            " OR (lease_holder IS NULL AND (state <> ? OR created_at <= ?)))"
        )
        args = (holder, now, JobState.QUEUED.value, orphaned_before)
    skip = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgres" else ""
    rows = await conn.fetchall(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ({_marks(UNFINISHED)}) AND {free}"
        f" ORDER BY created_at, id LIMIT {int(limit)}{skip}",
        (*UNFINISHED, *args),
    )
    jobs = [row_to_job(r) for r in rows]
    if jobs:
        await conn.execute(
            f"UPDATE jobs SET lease_holder = ?, lease_until = ? WHERE id IN ({_marks(jobs)})",
            (holder, until, *(j.id for j in jobs)),
        )
    return jobs


async def renew(conn: Conn, holder: str, *, until: float) -> set[str]:
    """Extend every lease ``holder`` still has; the ids of its jobs (a job missing from them
    that the holder thinks it drives was taken over)."""
    rows = await conn.fetchall(
        "UPDATE jobs SET lease_until = ? WHERE lease_holder = ? RETURNING id", (until, holder)
    )
    return {str(r[0]) for r in rows}


async def holds(conn: Conn, job_id: str, holder: str, *, until: float) -> bool:
    """Whether ``holder`` still has the lease of ``job_id`` (extending it if so)."""
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    rows = await conn.fetchall(f"SELECT lease_holder FROM jobs WHERE id = ?{lock}", (job_id,))
    if not rows or rows[0][0] != holder:
        return False
    await conn.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (until, job_id))
    return True


async def release(conn: Conn, holder: str, job_ids: Collection[str] | None = None) -> None:
    """Give up ``holder``'s leases (of ``job_ids``, or all of them)."""
    sql = "UPDATE jobs SET lease_holder = NULL, lease_until = NULL WHERE lease_holder = ?"
    args: tuple[object, ...] = (holder,)
    if job_ids is not None:
        if not job_ids:
            return
        sql += f" AND id IN ({_marks(job_ids)})"
        args = (holder, *job_ids)
    await conn.execute(sql, args)
