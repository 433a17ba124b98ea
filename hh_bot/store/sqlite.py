"""SQLite persistence behind a narrow async interface, with versioned migrations.

The store is the source of truth: jobs are written before they are submitted, and a job's state
change and its ledger entry are written in one transaction, so no crash can leave a reservation
without its job or settle one twice (``tx.py``; a job's row is ``rows.py``). Admin
policy (limits, grants, bans, channels, defaults) lives here too; the rules that read it live in
``quota.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from hh_bot.jobs.model import FINAL_STATES, Job, JobState
from hh_bot.store.migrations import MIGRATIONS
from hh_bot.store.rows import JOB_COLUMNS, row_to_job
from hh_bot.store.tx import Tx, scalar, settlement

__all__ = ["LOCK_PATIENCE", "UNFINISHED", "LedgerEntry", "Store", "Tx", "UsageRow", "settlement"]

log = logging.getLogger(__name__)

UNFINISHED = tuple(s.value for s in JobState if s not in FINAL_STATES)
LOCK_PATIENCE = 30.0  # seconds a job's state change waits for another writer's lock


@dataclass(frozen=True)
class LedgerEntry:
    job_id: str
    user_id: int
    guild_id: int | None
    kind: str  # "reserve" | "commit" | "release"
    amount: int
    at: float


@dataclass(frozen=True)
class UsageRow:
    user_id: int
    jobs: int
    committed: int
    """What the member was charged (delivered videos)."""
    reserved: int
    """Held for jobs still running."""
    possibly_billed: int = 0
    """What the API may have billed the shared key for the member's jobs (see ``tx.py``)."""


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class Store:
    """The SQLite store: ``await Store.open(path)`` … ``await store.close()``.

    One connection serves the process; an asyncio lock keeps transactions of concurrent tasks
    from interleaving on it.
    """

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout: float = 5.0) -> Store:
        """Open (creating it and its folder if need be) and migrate the database at ``path``.

        ``busy_timeout``: seconds SQLite waits for another writer's lock before a statement
        fails with "database is locked" (see ``set_busy_timeout``).
        """
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        store = cls(db)
        await store.set_busy_timeout(busy_timeout)
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await store._migrate()
        return store

    async def set_busy_timeout(self, seconds: float) -> None:
        """Change how long a statement waits for another writer's lock, from now on."""
        await self._db.execute(f"PRAGMA busy_timeout={round(seconds * 1000)}")

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        await self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        current = await self._scalar("SELECT MAX(version) FROM schema_version") or 0
        for version, statements in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            async with self.transaction() as tx:
                for statement in statements:
                    await tx.db.execute(statement)
                await tx.db.execute("INSERT INTO schema_version VALUES (?)", (version,))

    async def schema_version(self) -> int:
        return int(await self._scalar("SELECT MAX(version) FROM schema_version") or 0)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One write transaction (BEGIN IMMEDIATE): everything inside commits or nothing does."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._db)
                await self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.OperationalError):  # none active any more
                    await self._db.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        """One read-only transaction (deferred BEGIN): a consistent view that never takes the
        write lock, so a reader neither waits for another process's writer (WAL) nor blocks
        one. Only reads belong inside."""
        async with self._lock:
            await self._db.execute("BEGIN")
            try:
                yield Tx(self._db)
            finally:
                with contextlib.suppress(sqlite3.OperationalError):
                    await self._db.execute("COMMIT")

    async def _patiently(self, write: Callable[[Tx], Awaitable[None]]) -> None:
        """One write transaction that waits out another writer's lock even past SQLite's
        busy_timeout (up to ``LOCK_PATIENCE``): a job's step must not be lost to a busy moment.
        The failed attempt rolled back, so trying again cannot write anything twice."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOCK_PATIENCE
        delay = 0.05
        while True:
            try:
                async with self.transaction() as tx:
                    await write(tx)
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or loop.time() + delay > deadline:
                    raise
                log.warning("database busy (%s); retrying in %.2fs", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return await scalar(self._db, sql, args)

    async def _jobs(self, where: str, args: Sequence[Any] = (), tail: str = "") -> list[Job]:
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE {where} {tail}"
        async with self._db.execute(sql, args) as cur:
            rows = await cur.fetchall()
        return [row_to_job(r) for r in rows]

    # -- jobs --------------------------------------------------------------------------------

    async def save(self, job: Job, *, notice: dict[str, Any] | None = None) -> None:
        """Persist a state change; settles the ledger when the job reaches a final state.

        ``notice``: what the user is still to be told about this (final) job, stored in the
        same transaction; ``notice_sent`` removes it once told, ``pending_notices`` lists it
        after a restart. Waits out a busy database (see ``_patiently``).
        """

        async def write(tx: Tx) -> None:
            await tx.update_job(job)
            if notice is not None:
                await tx.db.execute(
                    "INSERT OR REPLACE INTO notices (job_id, error, at) VALUES (?, ?, ?)",
                    (job.id, json.dumps(notice), job.updated_at),
                )

        await self._patiently(write)

    async def notice_sent(self, job_id: str) -> None:
        async def write(tx: Tx) -> None:
            await tx.db.execute("DELETE FROM notices WHERE job_id = ?", (job_id,))

        await self._patiently(write)

    async def pending_notices(self) -> list[tuple[Job, dict[str, Any]]]:
        sql = (
            f"SELECT {JOB_COLUMNS}, notices.error FROM jobs"
            " JOIN notices ON notices.job_id = jobs.id ORDER BY notices.at, jobs.id"
        )
        async with self._db.execute(sql) as cur:
            rows = await cur.fetchall()
        return [(row_to_job(r), json.loads(r[-1])) for r in rows]

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
        async with self._db.execute(sql + " ORDER BY id", args) as cur:
            rows = await cur.fetchall()
        return [LedgerEntry(*r) for r in rows]

    async def usage_report(
        self, guild_id: int | None, since: float, until: float
    ) -> list[UsageRow]:
        sql = (
            "SELECT jobs.user_id, COUNT(*),"
            " COALESCE(SUM(CASE WHEN charge = 'committed' THEN cost END), 0),"
            " COALESCE(SUM(CASE WHEN charge = 'reserved' THEN cost END), 0),"
            " COALESCE(SUM(billing.amount), 0)"
            " FROM jobs LEFT JOIN billing ON billing.job_id = jobs.id"
            " WHERE jobs.created_at >= ? AND jobs.created_at < ?"
        )
        args: list[Any] = [since, until]
        if guild_id is not None:
            sql += " AND jobs.guild_id = ?"
            args.append(guild_id)
        sql += " GROUP BY jobs.user_id ORDER BY 3 DESC, 5 DESC, 1"
        async with self._db.execute(sql, args) as cur:
            rows = await cur.fetchall()
        return [UsageRow(*r) for r in rows]

    # -- key/value settings (admin policy, command-sync hash) ---------------------------------

    async def get_setting(self, scope: str, key: str) -> Any:
        value = await self._scalar(
            "SELECT value FROM settings WHERE scope = ? AND key = ?", (scope, key)
        )
        return None if value is None else json.loads(value)

    async def set_setting(self, scope: str, key: str, value: Any) -> None:
        async with self.transaction() as tx:
            if value is None:
                sql = "DELETE FROM settings WHERE scope = ? AND key = ?"
                await tx.db.execute(sql, (scope, key))
                return
            await tx.db.execute(
                "INSERT INTO settings (scope, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT(scope, key) DO UPDATE SET value = excluded.value",
                (scope, key, json.dumps(value)),
            )

    async def settings_in(self, scope: str) -> dict[str, Any]:
        async with self._db.execute(
            "SELECT key, value FROM settings WHERE scope = ?", (scope,)
        ) as cur:
            rows = await cur.fetchall()
        return {k: json.loads(v) for k, v in rows}

    async def add_grant(
        self, guild_id: int | None, user_id: int, amount: int, at: float, by: int
    ) -> None:
        async with self.transaction() as tx:
            await tx.db.execute(
                "INSERT INTO grants (guild_id, user_id, amount, at, granted_by)"
                " VALUES (?, ?, ?, ?, ?)",
                (guild_id, user_id, amount, at, by),
            )

    async def granted(self, guild_id: int | None, user_id: int, since: float) -> int:
        sql = (
            "SELECT COALESCE(SUM(amount), 0) FROM grants"
            " WHERE user_id = ? AND at >= ? AND guild_id IS ?"
        )
        return int(await self._scalar(sql, (user_id, since, guild_id)))
