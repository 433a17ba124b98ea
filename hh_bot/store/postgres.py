"""The PostgreSQL backend (asyncpg), for several bot processes sharing one database.

Chosen by ``DATABASE_URL=postgresql://…`` (``factory.py``). The queries are the shared ones
(``base.py``, ``tx.py``); what is PostgreSQL's own lives here:

* a pool of connections instead of one, so concurrent steps don't queue behind each other;
* ``transaction()`` (admission, admin policy) first takes one transaction-scoped advisory lock,
  so admissions are serialised across every process, as ``BEGIN IMMEDIATE`` serialises them on
  SQLite: two processes racing for the last credit cannot both get it; ``snapshot()`` (a
  read-only view, e.g. ``/quota``) takes no lock; A job's own steps
  (``save``) don't take it; they lock the job's row (``SqlTx.update_job``);
* migrations run under another advisory lock, so processes starting together migrate once;
* a server restart: the pool replaces connections the server cut. A step that cannot get a
  connection (or begin its transaction) raises ``DatabaseDown`` before anything is written; a
  job's own step (``_write``) waits for the server instead, up to ``OUTAGE_WAIT`` seconds, so a
  job in flight rides out a restart rather than failing. Only failures *before* the step's
  statements ran are retried: one cut during a COMMIT might have committed;
* a process frozen (SIGSTOP, a VM paused) inside a transaction would keep its row locks, and
  ``FOR UPDATE SKIP LOCKED`` would skip its jobs forever: every session asks the server to end
  a transaction left idle for ``IDLE_TRANSACTION_TIMEOUT`` (ours last milliseconds), which
  frees the rows for the takeover; the frozen process, resumed, finds its connection gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from hh_bot.store.base import SqlStore, Write
from hh_bot.store.conn import Dialect, Row, numbered
from hh_bot.store.interface import DRIVER, DatabaseDown, StoreUnavailable
from hh_bot.store.migrate import apply, current_version, migrations
from hh_bot.store.tx import SqlTx

__all__ = ["ADMISSION_LOCK", "MIGRATION_LOCK", "PgConn", "PostgresStore", "describe_url"]

log = logging.getLogger(__name__)

ADMISSION_LOCK = 0x68685F61646D  # "hh_adm": advisory lock keys, one per purpose
MIGRATION_LOCK = 0x68685F6D6967  # "hh_mig"
CONNECT_TIMEOUT = 10.0
MAX_CONNECTIONS = 10  # per process
WRITE_ATTEMPTS = 5  # a job's step retried after a deadlock or serialization failure

IDLE_TRANSACTION_TIMEOUT = 10.0  # real seconds; see the module docstring
OUTAGE_WAIT = 60.0  # real seconds a job's step waits for the database to come back
OUTAGE_RETRY = (0.05, 2.0)  # first and longest pause between attempts, real seconds

_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
_DOWN = (
    OSError,  # refused, reset, the socket gone
    asyncpg.InterfaceError,  # a connection already closed
    asyncpg.PostgresConnectionError,  # cut while in use
    asyncpg.OperatorInterventionError,  # shutting down, starting up
)

#: The store and connection of the ``transaction()`` the current task is inside, if any.
_IN_TRANSACTION: ContextVar[tuple[PostgresStore, PgConn] | None] = ContextVar(
    "hh_pg_transaction", default=None
)


def describe_url(url: str) -> str:
    """``host:port/database`` of ``url``, without user or password (for messages and logs)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"


class PgConn:
    """``Conn`` over one asyncpg connection."""

    dialect: Dialect = "postgres"

    def __init__(self, con: asyncpg.Connection) -> None:
        self.con = con

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        await self.con.execute(numbered(sql), *args)

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in await self.con.fetch(numbered(sql), *args)]


class PostgresStore(SqlStore):
    """``await PostgresStore.open(url)`` … ``await store.close()``."""

    def __init__(self, pool: asyncpg.Pool, where: str = "PostgreSQL") -> None:
        self._pool = pool
        self._where = where

    @classmethod
    async def open(cls, url: str, *, max_connections: int = MAX_CONNECTIONS) -> PostgresStore:
        """Connect and migrate; ``StoreUnavailable`` (one line, no password) when the server
        can't be reached or refuses us."""
        try:
            idle = str(int(IDLE_TRANSACTION_TIMEOUT * 1000))
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=max_connections,
                timeout=CONNECT_TIMEOUT,
                server_settings={"idle_in_transaction_session_timeout": idle},
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            why = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {describe_url(url)}: {why}"
            ) from None
        store = cls(pool, describe_url(url))
        try:
            await store._migrate()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        await self._pool.close()

    async def _migrate(self) -> None:
        async with self._pool.acquire() as con, con.transaction():
            conn = PgConn(con)
            await conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            current = await current_version(conn)
            for migration in migrations("postgres"):
                if migration.version > current:
                    await apply(conn, migration)

    @asynccontextmanager
    async def _begin(self, *, read_only: bool = False) -> AsyncIterator[PgConn]:
        """A pooled connection inside a transaction (``_connect``). Errors of the body pass
        through unchanged."""
        opts = {"isolation": "repeatable_read", "readonly": True} if read_only else {}
        async with AsyncExitStack() as stack:
            yield PgConn(await self._connect(stack, opts))

    async def _connect(
        self, stack: AsyncExitStack, transaction: dict[str, Any] | None
    ) -> asyncpg.Connection:
        """A pooled connection (in a transaction begun with ``transaction``'s options, if
        given), released by ``stack``. ``DatabaseDown`` when none could be had (nothing ran);
        a job's own task (``DRIVER`` set) waits up to ``OUTAGE_WAIT`` for the server first."""
        waits = DRIVER.get() is not None
        pause, began = OUTAGE_RETRY[0], time.monotonic()
        while True:
            try:
                async with AsyncExitStack() as attempt:
                    con = await attempt.enter_async_context(self._pool.acquire())
                    if transaction is not None:
                        await attempt.enter_async_context(con.transaction(**transaction))
                    stack.push_async_exit(attempt.pop_all())
                    return con
            except _DOWN as error:
                if not waits or time.monotonic() - began >= OUTAGE_WAIT:
                    raise self._down(error) from None
                log.warning("PostgreSQL at %s unreachable (%r); waiting", self._where, error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, OUTAGE_RETRY[1])

    def _down(self, error: BaseException) -> DatabaseDown:
        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        return DatabaseDown(f"PostgreSQL at {self._where} unreachable: {why}")

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[PgConn]:
        """A pooled connection; inside ``transaction()`` (``Quota.summary`` reads grants there)
        the transaction's own, so the read sees its writes and a task never holds two
        connections: tasks each holding one while waiting for a second would exhaust the pool
        and wait forever."""
        current = _IN_TRANSACTION.get()
        if current is not None and current[0] is self:
            yield current[1]
            return
        async with AsyncExitStack() as stack:
            yield PgConn(await self._connect(stack, None))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        """One write transaction holding the admission lock (see the module docstring)."""
        async with self._begin() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(?)", (ADMISSION_LOCK,))
            token = _IN_TRANSACTION.set((self, conn))
            try:
                yield SqlTx(conn)
            finally:
                _IN_TRANSACTION.reset(token)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlTx]:
        """One read-only REPEATABLE READ transaction: one consistent view, no lock taken;
        reads made inside (``_reading``) use its connection."""
        async with self._begin(read_only=True) as conn:
            token = _IN_TRANSACTION.set((self, conn))
            try:
                yield SqlTx(conn)
            finally:
                _IN_TRANSACTION.reset(token)

    async def _write(self, write: Write) -> None:
        """A job's step in one transaction (row locks only), tried again after a deadlock or a
        serialization failure: the failed attempt rolled back, so nothing is written twice.
        While the database is down (``DatabaseDown``: nothing ran) it is tried again until
        ``OUTAGE_WAIT`` has passed."""
        attempt = 0
        pause, began = OUTAGE_RETRY[0], time.monotonic()
        while True:
            try:
                async with self._begin() as conn:
                    await write(SqlTx(conn))
                return
            except DatabaseDown as error:
                if time.monotonic() - began >= OUTAGE_WAIT:
                    raise
                log.warning("%s; trying again", error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, OUTAGE_RETRY[1])
            except _RETRYABLE as error:
                attempt += 1
                if attempt == WRITE_ATTEMPTS:
                    raise
                log.warning("database conflict (%s); trying again", error)
                await asyncio.sleep(0.01 * attempt)
