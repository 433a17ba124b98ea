"""The SQLite backend (the default): one file, one process, one connection.

The store is the source of truth: jobs are written before they are submitted, and a job's state
change and its ledger entry are written in one transaction, so no crash can leave a reservation
without its job or settle one twice (``tx.py``; the queries are ``base.py``, a job's row is
``rows.py``). A second process opening the same file is refused at start (``lockfile.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from hh_bot.store import lockfile
from hh_bot.store.base import SqlStore, Write
from hh_bot.store.conn import Dialect, Row
from hh_bot.store.migrate import apply, current_version, migrations
from hh_bot.store.tx import SqlTx

__all__ = ["LOCK_PATIENCE", "SqliteConn", "SqliteStore"]

log = logging.getLogger(__name__)

LOCK_PATIENCE = 30.0  # seconds a job's state change waits for another writer's lock


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class SqliteConn:
    """``Conn`` over the aiosqlite connection."""

    dialect: Dialect = "sqlite"

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        await self.db.execute(sql, args)

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        async with self.db.execute(sql, args) as cur:
            return [tuple(r) for r in await cur.fetchall()]


class SqliteStore(SqlStore):
    """``await SqliteStore.open(path)`` … ``await store.close()``.

    One connection serves the process; an asyncio lock keeps transactions of concurrent tasks
    from interleaving on it.
    """

    one_process = True

    def __init__(self, db: aiosqlite.Connection, lock: Path | None = None) -> None:
        self._db = db
        self._conn = SqliteConn(db)
        self._lock = asyncio.Lock()
        self._process_lock = lock

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout: float = 5.0) -> SqliteStore:
        """Open (creating it and its folder if need be) and migrate the database at ``path``;
        ``StoreInUse`` when another process has it open.

        ``busy_timeout``: seconds SQLite waits for another writer's lock before a statement
        fails with "database is locked" (see ``set_busy_timeout``).
        """
        lock = None
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            lock = lockfile.acquire(Path(path))
        try:
            db = await aiosqlite.connect(str(path), isolation_level=None)
        except BaseException:
            if lock is not None:
                lockfile.release(lock)
            raise
        store = cls(db, lock)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await store.set_busy_timeout(busy_timeout)
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await store._migrate()
        except BaseException:
            await store.close()
            raise
        return store

    async def set_busy_timeout(self, seconds: float) -> None:
        """Change how long a statement waits for another writer's lock, from now on."""
        await self._db.execute(f"PRAGMA busy_timeout={round(seconds * 1000)}")

    async def close(self) -> None:
        try:
            await self._db.close()
        finally:
            if self._process_lock is not None:
                lockfile.release(self._process_lock)
                self._process_lock = None

    async def _migrate(self) -> None:
        current = await current_version(self._conn)
        for migration in migrations("sqlite"):
            if migration.version > current:
                async with self.transaction() as tx:
                    await apply(tx.conn, migration)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[SqliteConn]:
        yield self._conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        """One write transaction (BEGIN IMMEDIATE): everything inside commits or nothing does."""
        async with self._lock:
            # BEGIN inside the try: a task cancelled while BEGIN runs on aiosqlite's thread
            # leaves it to finish there, and the ROLLBACK queued behind it undoes it; outside,
            # the connection would stay in a transaction that every later BEGIN refuses.
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                yield SqlTx(self._conn)
                await self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.OperationalError):  # none active any more
                    await self._db.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlTx]:
        """One read-only transaction (deferred BEGIN): a consistent view that never takes the
        write lock, so a reader neither waits for another process's writer (WAL) nor blocks
        one. Only reads belong inside."""
        async with self._lock:
            try:  # BEGIN inside, for the reason given in ``transaction``
                await self._db.execute("BEGIN")
                yield SqlTx(self._conn)
            finally:
                with contextlib.suppress(sqlite3.OperationalError):
                    await self._db.execute("COMMIT")

    async def _compact(self) -> None:
        """After a purge: fold the WAL into the file and empty it, rebuild the file without
        the freed pages and cells (VACUUM), and fold and empty the WAL again."""
        async with self._lock:
            for sql in (
                "PRAGMA wal_checkpoint(TRUNCATE)",
                "VACUUM",
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ):
                # Each read to its end: a checkpoint answers a row, and VACUUM refuses to run
                # while a statement is still open.
                async with self._db.execute(sql) as cursor:
                    await cursor.fetchall()

    async def _write(self, write: Write) -> None:
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
