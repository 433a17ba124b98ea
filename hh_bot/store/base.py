"""What both backends share: every query of the ``Store`` protocol, written once.

A backend (``sqlite.py``, ``postgres.py``) supplies connections (``Conn``) for reading and for
writing, and its own ``transaction()``; the SQL here runs unchanged on both (``?`` placeholders,
``ON CONFLICT``), except for the one comparison whose spelling differs.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from hh_bot.jobs.model import Job, JobState
from hh_bot.reports.charts import SpendRow
from hh_bot.reports.export import LedgerLine
from hh_bot.store import dispatch, leases, purge, shards, spend
from hh_bot.store.conn import Conn, scalar
from hh_bot.store.interface import UNFINISHED, LedgerEntry, Purged, StoreFigures, UsageRow
from hh_bot.store.rows import JOB_COLUMNS, row_to_job
from hh_bot.store.tx import SqlTx

Write = Callable[[SqlTx], Awaitable[None]]


class SqlStore(ABC):
    """The queries of ``Store`` over a backend's connections."""

    one_process: bool = False
    """Whether only one process can have the database open (SQLite), so that at start any
    other lease holder is a dead predecessor."""

    @abstractmethod
    def _reading(self) -> AbstractAsyncContextManager[Conn]:
        """A connection for reads outside any transaction of ours."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[SqlTx]:
        """The admission transaction (see ``interface.py``)."""

    @abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[SqlTx]:
        """A read-only transaction (see ``interface.py``)."""

    @abstractmethod
    async def _write(self, write: Write) -> None:
        """Run ``write`` in one write transaction, waiting out a busy database."""

    @abstractmethod
    async def close(self) -> None: ...

    async def _scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        async with self._reading() as conn:
            return await scalar(conn, sql, args)

    async def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._reading() as conn:
            return await conn.fetchall(sql, args)

    async def schema_version(self) -> int:
        return int(await self._scalar("SELECT MAX(version) FROM schema_version") or 0)

    async def _jobs(self, where: str, args: Sequence[Any] = (), tail: str = "") -> list[Job]:
        rows = await self._rows(f"SELECT {JOB_COLUMNS} FROM jobs WHERE {where} {tail}", args)
        return [row_to_job(r) for r in rows]

    # -- jobs --------------------------------------------------------------------------------

    async def save(self, job: Job, *, notice: dict[str, Any] | None = None) -> None:
        async def write(tx: SqlTx) -> None:
            await tx.update_job(job)
            if notice is not None:
                await tx.conn.execute(
                    "INSERT INTO notices (job_id, error, at) VALUES (?, ?, ?)"
                    " ON CONFLICT (job_id) DO UPDATE SET error = excluded.error, at = excluded.at",
                    (job.id, json.dumps(notice), job.updated_at),
                )

        await self._write(write)

    async def notice_sent(self, job_id: str) -> None:
        async def write(tx: SqlTx) -> None:
            await tx.conn.execute("DELETE FROM notices WHERE job_id = ?", (job_id,))

        await self._write(write)

    async def pending_notices(self) -> list[tuple[Job, dict[str, Any]]]:
        sql = (
            f"SELECT {JOB_COLUMNS}, notices.error FROM jobs"
            " JOIN notices ON notices.job_id = jobs.id ORDER BY notices.at, jobs.id"
        )
        return [(row_to_job(r), json.loads(r[-1])) for r in await self._rows(sql)]

    async def get_job(self, job_id: str) -> Job | None:
        jobs = await self._jobs("id = ?", (job_id,))
        return jobs[0] if jobs else None

    async def unfinished_jobs(self) -> list[Job]:
        marks = ",".join("?" * len(UNFINISHED))
        return await self._jobs(f"state IN ({marks})", UNFINISHED, "ORDER BY created_at, id")

    async def user_jobs(self, user_id: int, limit: int = 10) -> list[Job]:
        return await self._jobs(
            "user_id = ?", (user_id,), f"ORDER BY created_at DESC LIMIT {int(limit)}"
        )

    async def jobs_in_states(
        self, states: Iterable[JobState], guild_id: int | None = None
    ) -> list[Job]:
        values = tuple(s.value for s in states)
        where = f"state IN ({','.join('?' * len(values))})"
        args: tuple[Any, ...] = values
        if guild_id is not None:
            where += " AND guild_id = ?"
            args = (*values, guild_id)
        return await self._jobs(where, args, "ORDER BY created_at, id")

    async def charge_of(self, job_id: str) -> str | None:
        value = await self._scalar("SELECT charge FROM jobs WHERE id = ?", (job_id,))
        return None if value is None else str(value)

    async def billed(self, job_id: str) -> str | None:
        """Why the key was possibly billed for ``job_id`` (see ``tx.possibly_billed``), or None."""
        value = await self._scalar("SELECT reason FROM billing WHERE job_id = ?", (job_id,))
        return None if value is None else str(value)

    async def ledger(self, job_id: str | None = None) -> list[LedgerEntry]:
        sql = "SELECT job_id, user_id, guild_id, kind, amount, at FROM ledger"
        args: tuple[Any, ...] = ()
        if job_id is not None:
            sql, args = sql + " WHERE job_id = ?", (job_id,)
        rows = await self._rows(sql + " ORDER BY id", args)
        return [LedgerEntry(r[0], r[1], r[2], r[3], int(r[4]), float(r[5])) for r in rows]

    async def usage_report(
        self, guild_id: int | None, since: float, until: float
    ) -> list[UsageRow]:
        async with self._reading() as conn:
            return await spend.usage_report(conn, guild_id, since, until)

    # -- reports: the month chart and the export --------------------------------------------

    async def spend_by_day(
        self, guild_id: int | None, since: float, until: float, user_id: int | None = None
    ) -> list[SpendRow]:
        async with self._reading() as conn:
            return await spend.spend_by_day(conn, guild_id, since, until, user_id)

    async def ledger_lines(
        self, guild_id: int | None, since: float, until: float, *, page: int = 2000
    ) -> AsyncIterator[LedgerLine]:
        after: int | None = 0
        while after is not None:
            # One page per read, keyed on the ledger's id: never the whole period in memory,
            # and no cursor held open across the caller's awaits.
            async with self._reading() as conn:
                lines, after = await spend.ledger_page(
                    conn, guild_id, since, until, after=after, page=page
                )
            for line in lines:
                yield line

    async def moderation_refusals(
        self, guild_id: int | None, user_id: int, since: float
    ) -> list[float]:
        async with self._reading() as conn:
            return await spend.moderation_refusals(conn, guild_id, user_id, since)

    # -- purge -----------------------------------------------------------------------------

    async def purge_member(self, guild_id: int, user_id: int, anonymous_id: int) -> Purged:
        async with self.transaction() as tx:
            purged = await purge.purge_member(tx, guild_id, user_id, anonymous_id)
        await self._compact()
        return purged

    async def _compact(self) -> None:
        """Make removed text unrecoverable from the database's files, where the backend can
        (SQLite: ``sqlite.py``). PostgreSQL: nothing more; its own VACUUM reclaims the old
        row versions in time, and they are not reachable through SQL meanwhile."""
        return None

    # -- the dispatcher's shared state (``dispatch.py``) ----------------------------------------

    async def claim_next(
        self,
        candidates: Collection[str],
        *,
        global_cap: int,
        per_user_cap: int,
        now: float,
        holder: str | None = None,
        lease_until: float | None = None,
    ) -> Job | None:
        async with self.transaction() as tx:
            return await dispatch.claim_next(
                tx.conn,
                candidates,
                global_cap=global_cap,
                per_user_cap=per_user_cap,
                now=now,
                holder=holder,
                lease_until=lease_until,
            )

    async def queue_order(self) -> list[str]:
        async with self._reading() as conn:
            return await dispatch.queue_order(conn)

    async def active_count(self) -> int:
        async with self._reading() as conn:
            return sum((await dispatch.active_per_user(conn)).values())

    # -- job leases (``leases.py``) -------------------------------------------------------------

    async def take_lease(self, job_id: str, holder: str, *, now: float, until: float) -> Job | None:
        taken: list[Job | None] = [None]

        async def write(tx: SqlTx) -> None:
            taken[0] = await leases.take(tx.conn, job_id, holder, now=now, until=until)

        await self._write(write)
        return taken[0]

    async def take_free_leases(
        self, holder: str, *, now: float, until: float, orphaned_before: float, at_start: bool
    ) -> list[Job]:
        taken: list[Job] = []

        async def write(tx: SqlTx) -> None:
            taken[:] = await leases.take_free(
                tx.conn,
                holder,
                now=now,
                until=until,
                orphaned_before=orphaned_before,
                everything=at_start and self.one_process,
            )

        await self._write(write)
        return taken

    async def renew_leases(self, holder: str, *, until: float) -> set[str]:
        held: set[str] = set()

        async def write(tx: SqlTx) -> None:
            held.update(await leases.renew(tx.conn, holder, until=until))

        await self._write(write)
        return held

    async def holds_lease(self, job_id: str, holder: str, *, until: float) -> bool:
        result = [False]

        async def write(tx: SqlTx) -> None:
            result[0] = await leases.holds(tx.conn, job_id, holder, until=until)

        await self._write(write)
        return result[0]

    async def release_leases(self, holder: str, job_ids: Collection[str] | None = None) -> None:
        async def write(tx: SqlTx) -> None:
            await leases.release(tx.conn, holder, job_ids)

        await self._write(write)

    # -- shard claims (``shards.py``) ----------------------------------------------------------

    async def claim_shards(
        self, shard_ids: Collection[int], holder: str, *, now: float, until: float
    ) -> dict[int, str]:
        async with self.transaction() as tx:
            return await shards.claim(
                tx.conn, shard_ids, holder, now=now, until=until, others_are_dead=self.one_process
            )

    async def renew_shards(self, holder: str, *, until: float) -> set[int]:
        held: set[int] = set()

        async def write(tx: SqlTx) -> None:
            held.update(await shards.renew(tx.conn, holder, until=until))

        await self._write(write)
        return held

    async def release_shards(self, holder: str) -> None:
        async def write(tx: SqlTx) -> None:
            await shards.release(tx.conn, holder)

        await self._write(write)

    # -- key/value settings (admin policy, command-sync hash) ---------------------------------

    async def get_setting(self, scope: str, key: str) -> Any:
        value = await self._scalar(
            "SELECT value FROM settings WHERE scope = ? AND key = ?", (scope, key)
        )
        return None if value is None else json.loads(value)

    async def set_setting(self, scope: str, key: str, value: Any) -> None:
        """Admin policy changes what admission allows: written in the admission transaction
        (and, unlike a job's step, not retried when the database is busy)."""
        async with self.transaction() as tx:
            if value is None:
                sql = "DELETE FROM settings WHERE scope = ? AND key = ?"
                await tx.conn.execute(sql, (scope, key))
                return
            await tx.conn.execute(
                "INSERT INTO settings (scope, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
                (scope, key, json.dumps(value)),
            )

    async def settings_in(self, scope: str) -> dict[str, Any]:
        rows = await self._rows("SELECT key, value FROM settings WHERE scope = ?", (scope,))
        return {k: json.loads(v) for k, v in rows}

    # -- each member's own defaults (/settings) ------------------------------------------------

    async def user_settings(self, user_id: int) -> dict[str, Any] | None:
        value = await self._scalar("SELECT value FROM user_settings WHERE user_id = ?", (user_id,))
        return None if value is None else dict(json.loads(value))

    async def set_user_settings(
        self, user_id: int, value: dict[str, Any] | None, at: float
    ) -> None:
        async def write(tx: SqlTx) -> None:
            if value is None:
                await tx.conn.execute("DELETE FROM user_settings WHERE user_id = ?", (user_id,))
                return
            await tx.conn.execute(
                "INSERT INTO user_settings (user_id, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (user_id, json.dumps(value), at),
            )

        await self._write(write)

    async def add_grant(
        self, guild_id: int | None, user_id: int, amount: int, at: float, by: int
    ) -> None:
        async with self.transaction() as tx:
            await tx.conn.execute(
                "INSERT INTO grants (guild_id, user_id, amount, at, granted_by)"
                " VALUES (?, ?, ?, ?, ?)",
                (guild_id, user_id, amount, at, by),
            )

    async def granted(self, guild_id: int | None, user_id: int, since: float) -> int:
        async with self._reading() as conn:
            same = "IS" if conn.dialect == "sqlite" else "IS NOT DISTINCT FROM"
            sql = (
                "SELECT COALESCE(SUM(amount), 0) FROM grants"
                f" WHERE user_id = ? AND at >= ? AND guild_id {same} ?"
            )
            return int(await scalar(conn, sql, (user_id, since, guild_id)))

    # -- budget alerts ---------------------------------------------------------------------------

    async def mark_alert(
        self, guild_id: int, period: str, period_start: float, threshold: int, *, at: float
    ) -> bool:
        made = [False]

        async def write(tx: SqlTx) -> None:
            rows = await tx.conn.fetchall(
                "INSERT INTO alert_marks (guild_id, period, period_start, threshold, at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING threshold",
                (guild_id, period, period_start, threshold, at),
            )
            made[0] = bool(rows)

        await self._write(write)
        return made[0]

    # -- figures for the metrics endpoint ------------------------------------------------------

    async def figures(self) -> StoreFigures:
        async with self._reading() as conn:
            states = await conn.fetchall("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            charged = await scalar(
                conn, "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE kind = 'commit'"
            )
            billed = await scalar(conn, "SELECT COALESCE(SUM(amount), 0) FROM billing")
        return StoreFigures(
            jobs_by_state={str(state): int(count) for state, count in states},
            charged=int(charged),
            possibly_billed=int(billed),
        )
