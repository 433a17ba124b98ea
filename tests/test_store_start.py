"""Opening the store at start: SQLite is for one process, and a wrong DATABASE_URL (unknown,
unreachable, refused) is one clear line, no traceback — through the real entry point."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from pathlib import Path

import pytest

from hh_bot.store.factory import open_store
from hh_bot.store.interface import StoreInUse, StoreUnavailable
from hh_bot.store.sqlite import SqliteStore
from tests.bot_world import API_KEY, BOT_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.happyhorse import FakeHappyHorse
from tests.pg_server import PgServer
from tests.test_launcher import bot_env, start_bot, stop_bot

ROOT = Path(__file__).resolve().parent.parent
DB_LINE = re.compile(r"^\S+ \S+ ERROR +hh_bot: (?P<why>.+)$")

HOLD = """
import asyncio, sys
from hh_bot.store.factory import open_store

async def main():
    store = await open_store(sys.argv[1])
    print("open", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await store.close()

asyncio.run(main())
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_bot_until_exit(tmp: Path, **env: str) -> tuple[int, list[str]]:
    """Start the entry point (no Discord behind it) and wait for it to give up."""
    full = {**bot_env(tmp, "http://127.0.0.1:9", "http://127.0.0.1:9"), **env}
    proc = await start_bot(tmp, full)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode().splitlines()


def one_error_line(lines: list[str]) -> str:
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    match = DB_LINE.match(lines[0])
    assert match, lines
    return match["why"]


async def test_a_second_bot_on_one_sqlite_database_is_refused(tmp_path: Path) -> None:
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            env = bot_env(tmp_path, fake.url, hh.base_url)
            first = await start_bot(tmp_path, env)
            await fake.wait_for(lambda: fake.gateway.identify_count > 0, timeout=30)
            second = await start_bot(tmp_path, env)
            out, _ = await asyncio.wait_for(second.communicate(), 60)
            why = one_error_line(out.decode().splitlines())
            assert second.returncode == 1
            assert f"in use by process {first.pid}" in why, why
            assert "SQLite is for one process" in why
            assert fake.gateway.identify_count == 1  # the second never reached Discord
            output = await stop_bot(first)
            assert first.returncode == 0, output
        # the lock went with the process: the database opens again
        store = await open_store(f"sqlite:///{tmp_path / 'hh.sqlite3'}")
        await store.close()
    finally:
        await hh.close()


async def test_the_sqlite_lock_is_held_until_the_last_store_of_the_process_closes(
    tmp_path: Path,
) -> None:
    """Stores of one process share the lock (the quota races open two); another process is
    refused while any of them is open, and admitted once all are closed."""
    path = tmp_path / "hh.sqlite3"
    url = f"sqlite:///{path}"

    async def other_process_opens() -> bool:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HOLD,
            url,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(b"\n"), 60)
        if proc.returncode == 0:
            assert out.decode() == "open\n"
            return True
        assert "StoreInUse" in err.decode(), err.decode()
        return False

    first = await SqliteStore.open(path)
    second = await SqliteStore.open(path)
    assert not await other_process_opens()
    await first.close()
    assert not await other_process_opens()
    await second.close()
    assert await other_process_opens()


async def test_in_use_names_the_holder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hh.sqlite3'}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD,
        url,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 60) == b"open\n"
        with pytest.raises(StoreInUse, match=f"in use by process {proc.pid}"):
            await open_store(url)
    finally:
        assert proc.stdin is not None
        proc.stdin.write(b"\n")
        await asyncio.wait_for(proc.wait(), 60)


async def test_unknown_database_scheme_is_one_configuration_line(tmp_path: Path) -> None:
    code, lines = await run_bot_until_exit(tmp_path, DATABASE_URL="mysql://hh:hunter2@db/hh")
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("hh-bot: configuration error: DATABASE_URL: unknown database")
    assert "hunter2" not in lines[0]


async def test_unreachable_postgres_is_one_line_without_the_password(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://hh:hunter2@127.0.0.1:{port}/hh"
    code, lines = await run_bot_until_exit(tmp_path, DATABASE_URL=url)
    assert code == 1
    why = one_error_line(lines)
    assert why.startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{port}/hh: "), why
    assert "hunter2" not in why


async def test_an_unwritable_sqlite_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="cannot open the SQLite database"):
        await open_store(f"sqlite:///{tmp_path / 'file' / 'hh.sqlite3'}")


@pytest.mark.postgres
async def test_a_database_the_server_lacks_is_one_line(pg_server: PgServer) -> None:
    url = pg_server.uri.replace("/postgres?", "/no_such_db?")
    with pytest.raises(StoreUnavailable, match='database "no_such_db" does not exist') as caught:
        await open_store(url)
    assert "\n" not in str(caught.value)


async def test_unknown_postgres_host_is_one_line() -> None:
    with pytest.raises(StoreUnavailable, match=r"cannot connect to PostgreSQL at nohost\.invalid"):
        await open_store("postgresql://hh:pw@nohost.invalid:5432/hh")
