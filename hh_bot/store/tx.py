"""What runs inside one write transaction of the store (``Store.transaction``): the counts the
quota rules read, and a job written together with its ledger entry, so that a reservation is
made with its job and settled exactly once, when the job reaches a final state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from hh_bot.jobs.model import Job, JobState
from hh_bot.store.rows import INSERT_JOB, UPDATE_JOB, job_values


async def scalar(db: aiosqlite.Connection, sql: str, args: Sequence[Any] = ()) -> Any:
    """The first column of the first row, or None when there is no row."""
    async with db.execute(sql, args) as cur:
        row = await cur.fetchone()
    return None if row is None else row[0]


def settlement(job: Job) -> str | None:
    """How a final job settles its reservation: done is charged, anything else released."""
    if not job.state.final:
        return None
    return "commit" if job.state is JobState.DONE else "release"


class Tx:
    """Operations inside one write transaction (see ``Store.transaction``)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return await scalar(self.db, sql, args)

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
        await self.db.execute(INSERT_JOB, job_values(job, "reserved"))
        await self._ledger(job, "reserve")

    async def update_job(self, job: Job) -> None:
        outcome = settlement(job)
        row = await self.scalar("SELECT charge FROM jobs WHERE id = ?", (job.id,))
        charge = row
        if outcome is not None and row == "reserved":
            charge = "committed" if outcome == "commit" else "released"
            await self._ledger(job, outcome)
        values = job_values(job, charge)
        await self.db.execute(UPDATE_JOB, (*values[1:], job.id))

    async def _ledger(self, job: Job, kind: str) -> None:
        await self.db.execute(
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
