"""What runs inside one write transaction of a store (``Store.transaction``), on either backend:
the counts the
quota rules read, and a job written together with its ledger entry, so that a reservation is
made with its job and settled exactly once, when the job reaches a final state.

Two sums are kept apart. Users are *charged* by the product's rule: a delivered video commits
the reservation, anything else releases it. The shared key was *possibly billed* whenever the
API may have made and run a task (``possibly_billed``): that is recorded in ``billing`` when the
job settles, so ``/hh-admin usage`` can show what the key may really have spent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hh_bot.jobs.model import Job, JobState
from hh_bot.store.conn import Conn, fetchone, scalar
from hh_bot.store.leases import check_fence
from hh_bot.store.rows import INSERT_JOB, UPDATE_JOB, job_values


def settlement(job: Job) -> str | None:
    """How a final job settles its reservation: done is charged, anything else released."""
    if not job.state.final:
        return None
    return "commit" if job.state is JobState.DONE else "release"


#: Error kinds after which the API certainly billed nothing although a task id came back.
_NOT_BILLED = frozenset({"TaskFailed"})  # failed tasks are not billed (the API guide)


def possibly_billed(job: Job) -> str | None:
    """Why the API may have billed this final job's task, or None when it certainly did not.

    A delivered video was billed. A task that ran may have been, whatever ended the job after it
    (the deadline, a poll refused 401/403, a download or delivery failure, an expired id) —
    except a task the API reported failed. A create whose answer was lost may have made one.
    """
    if not job.state.final or job.state is JobState.CANCELED:
        return None
    if job.state is JobState.DONE:
        return "delivered"
    if job.error_kind == "UnknownOutcome":
        return "unknown_outcome"
    if job.task_id is not None and job.error_kind not in _NOT_BILLED:
        return job.error_kind or "ended"
    return None


class SqlTx:
    """The ``Tx`` of both backends: operations on the connection of one write transaction."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return await scalar(self.conn, sql, args)

    async def spent(
        self, *, since: float, user_id: int | None = None, guild_id: int | None = None
    ) -> int:
        """Reserved plus committed cost of jobs created since ``since`` (released excluded).

        Per-user limits are per server: pass both ids to count one member on one server.
        """
        where, args = ["charge IN ('reserved', 'committed')", "created_at >= ?"], [since]
        if user_id is not None:
            where.append("user_id = ?")
            args.append(user_id)
        if guild_id is not None:
            where.append("guild_id = ?")
            args.append(guild_id)
        total = await self.scalar(
            f"SELECT COALESCE(SUM(cost), 0) FROM jobs WHERE {' AND '.join(where)}", args
        )
        return int(total)

    async def count_jobs(self, user_id: int, states: Iterable[str]) -> int:
        states = tuple(states)
        marks = ",".join("?" * len(states))
        sql = f"SELECT COUNT(*) FROM jobs WHERE user_id = ? AND state IN ({marks})"
        return int(await self.scalar(sql, (user_id, *states)))

    async def last_created_at(self, user_id: int) -> float | None:
        sql = "SELECT MAX(created_at) FROM jobs WHERE user_id = ? AND charge != 'released'"
        value = await self.scalar(sql, (user_id,))
        return None if value is None else float(value)

    async def insert_job(self, job: Job) -> None:
        await self.conn.execute(INSERT_JOB, job_values(job, "reserved"))
        await self._ledger(job, "reserve")

    async def update_job(self, job: Job) -> None:
        outcome = settlement(job)
        # PostgreSQL: lock the row, so two processes saving one job settle it once.
        lock = " FOR UPDATE" if self.conn.dialect == "postgres" else ""
        found = await fetchone(
            self.conn, f"SELECT charge, lease_holder FROM jobs WHERE id = ?{lock}", (job.id,)
        )
        row = charge = None if found is None else found[0]
        check_fence(job.id, None if found is None else found[1])  # see ``leases.py``
        if outcome is not None and row == "reserved":
            charge = "committed" if outcome == "commit" else "released"
            await self._ledger(job, outcome)
            reason = possibly_billed(job)
            if reason is not None:
                await self._billed(job, reason)
        values = job_values(job, charge)
        await self.conn.execute(UPDATE_JOB, (*values[1:], job.id))

    async def _ledger(self, job: Job, kind: str) -> None:
        await self.conn.execute(
            "INSERT INTO ledger (job_id, user_id, guild_id, kind, amount, at, prompt)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                job.id,
                job.user_id,
                job.guild_id,
                kind,
                job.cost,
                job.updated_at or job.created_at,
                job.params.prompt[:200],
            ),
        )

    async def _billed(self, job: Job, reason: str) -> None:
        await self.conn.execute(
            "INSERT INTO billing (job_id, user_id, guild_id, amount, at, reason)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
            (job.id, job.user_id, job.guild_id, job.cost, job.updated_at, reason[:40]),
        )
