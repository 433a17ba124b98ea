"""Fixtures shared by the suites that run on both store backends, and the two-bot mode.

``store_url`` (and ``store``, opened on it) is parametrised over SQLite and PostgreSQL; the
PostgreSQL cases carry the ``postgres`` marker (``pytest -m postgres`` runs only them,
``-m 'not postgres'`` none) and share one server started once per run (``pg_server.py``).

Two bots on one PostgreSQL (``tests.bot_world.TwoBots``): a test marked ``two_bots`` runs twice,
with one bot on SQLite and with two; ``pytest --bots=2`` runs every end-to-end test (those
using ``bot_world``) with two bots only (``make test-two-bots``). Such cases carry the
``postgres`` marker too.
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
from tests import bot_world
from tests.pg_server import PgServer, PostgresUnavailable, start

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bots",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: run every end-to-end test with two bots on one PostgreSQL database",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bots" not in metafunc.fixturenames:
        return
    if metafunc.config.getoption("--bots") == 2:
        counts = [2]
    elif metafunc.definition.get_closest_marker("two_bots") is not None:
        counts = [1, 2]
    else:
        return
    metafunc.parametrize(
        "bots",
        [pytest.param(n, id=f"{n}-bot" + "s" * (n > 1), marks=_marks(n)) for n in counts],
        indirect=True,
    )


def _marks(bots: int) -> list[pytest.MarkDecorator]:
    return [pytest.mark.postgres] if bots == 2 else []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--bots=2`` keeps the tests that use ``bot_world`` (the end-to-end ones), except
    those about the SQLite file itself (marked ``sqlite_file``)."""
    if config.getoption("--bots") != 2:
        return
    keep = [i for i in items if _uses_bot_world(i) and not i.get_closest_marker("sqlite_file")]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


def _uses_bot_world(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return module is not None and getattr(module, "bot_world", None) is bot_world.bot_world


@pytest.fixture(autouse=True)
def bots(request: pytest.FixtureRequest) -> Iterator[int]:
    """How many bots ``bot_world`` starts in this test (1 unless parametrised above)."""
    count = int(getattr(request, "param", 1))
    if count == 1:
        yield 1
        return
    bot_world.TWO_BOTS.server = request.getfixturevalue("pg_server")
    try:
        yield count
    finally:
        bot_world.TWO_BOTS.server = None
        bot_world.TWO_BOTS.urls.clear()


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
