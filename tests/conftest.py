"""Fixtures shared by the suites that run on both store backends.

``store_url`` (and ``store``, opened on it) is parametrised over SQLite and PostgreSQL; the
PostgreSQL cases carry the ``postgres`` marker (``pytest -m postgres`` runs only them,
``-m 'not postgres'`` none) and share one server started once per run (``pg_server.py``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from tests.pg_server import PgServer, PostgresUnavailable, start

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_STARTED = pytest.StashKey[float]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    started = config.stash.get(_STARTED, None)
    if started is not None:
        terminalreporter.write_line(f"PostgreSQL test server started in {started:.1f} s")


@pytest.fixture(scope="session")
def pg_server(pytestconfig: pytest.Config) -> Iterator[PgServer]:
    # Not under pytest's basetemp: the server runs as another user, which must traverse the
    # folders above its data, and pytest resets /tmp/pytest-of-<user> to 0700 whenever a
    # pytest starts (two runs at once would lock this server out).
    folder = Path(tempfile.mkdtemp(prefix="hh-bot-pg-"))
    try:
        server = start(folder)
    except PostgresUnavailable as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"the PostgreSQL server for the `postgres` tests did not start: {error}")
    pytestconfig.stash[_STARTED] = server.started_in
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """DATABASE_URL of an empty database on ``backend`` (migrated already on PostgreSQL)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'hh.sqlite3'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return await server.emptied_url()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    store = await open_store(store_url)
    yield store
    await store.close()
