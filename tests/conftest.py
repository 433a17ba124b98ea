"""Fixtures shared by the suites that run on both store backends.

``store_url`` (and ``store``, opened on it) is parametrised over SQLite and PostgreSQL; the
PostgreSQL cases carry the ``postgres`` marker (``pytest -m postgres`` runs only them,
``-m 'not postgres'`` none) and share one server started once per run (``pg_server.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from tests.pg_server import PgServer, PostgresUnavailable, start

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    try:
        server = start(tmp_path_factory.mktemp("postgres"))
    except PostgresUnavailable as error:
        pytest.fail(f"the PostgreSQL server for the `postgres` tests did not start: {error}")
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """DATABASE_URL of an empty database on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'hh.sqlite3'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return await server.fresh_url()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    store = await open_store(store_url)
    yield store
    await store.close()
