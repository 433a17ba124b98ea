"""``python bot.py`` (through the test launcher) starts against the fakes and syncs only once,
and, while Discord can't be reached, says why in one line per attempt until it can."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import discord.http

import bot
from hh_bot.app import build_services
from hh_bot.clock import ScaledClock, SystemClock
from hh_bot.reachability import ReconnectBackoff
from tests.bot_world import API_KEY, BOT_TOKEN, settings_for
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import GUILD_ID
from tests.fakes.happyhorse import FakeHappyHorse
from tests.launch_bot import clock_env
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent


def bot_env(tmp: Path, discord_url: str, hh_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "APIYI_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HH_FAKE_DISCORD=discord_url,
        DISCORD_TOKEN=BOT_TOKEN,
        APIYI_API_KEY=API_KEY,
        APIYI_BASE_URL=hh_url,
        DATABASE_URL=f"sqlite:///{tmp / 'hh.sqlite3'}",
        LOG_LEVEL="INFO",
        **extra,
    )
    return env


async def start_bot(tmp: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.launch_bot",
        *args,
        cwd=tmp,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def stop_bot(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    return out.decode()


async def test_second_start_with_unchanged_commands_does_not_sync(tmp_path: Path) -> None:
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            env = bot_env(tmp_path, fake.url, hh.base_url)
            for expected_syncs, args in ((1, ()), (1, ()), (2, ("--sync",))):
                before = fake.gateway.identify_count
                proc = await start_bot(tmp_path, env, *args)
                await fake.wait_for(lambda b=before: fake.gateway.identify_count > b, timeout=20)
                output = await stop_bot(proc)
                assert proc.returncode == 0, output
                assert fake.sync_count == expected_syncs, output
                assert BOT_TOKEN not in output and API_KEY not in output
            names = {c["name"] for c in fake.synced_commands()}
            assert {"video", "Make video", "quota", "jobs", "hh-admin"} <= names
            assert (tmp_path / "hh.sqlite3").exists()
    finally:
        await hh.close()


async def test_dev_guild_sync_and_default_database_under_data(tmp_path: Path) -> None:
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            env = bot_env(tmp_path, fake.url, hh.base_url, DEV_GUILD_ID=str(GUILD_ID))
            del env["DATABASE_URL"]  # the default: a SQLite file under ./data/, made on start
            proc = await start_bot(tmp_path, env)
            await fake.wait_for(lambda: fake.sync_count == 1, timeout=20)
            output = await stop_bot(proc)
            assert proc.returncode == 0, output
            guild_names = {c["name"] for c in fake.synced_commands(guild_id=GUILD_ID)}
            assert {"video", "Make video", "quota", "jobs", "hh-admin"} <= guild_names
            assert not fake.synced_commands()
            assert (tmp_path / "data" / "hh-bot.sqlite3").is_file()
    finally:
        await hh.close()


# -- an unreachable Discord: one line per attempt, retries, then it connects -------------------

LINE = re.compile(
    r"^\S+ \S+ WARNING hh_bot: cannot reach Discord: (?P<why>.+); retrying in (?P<wait>\d+) s$"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def read_lines(proc: asyncio.subprocess.Process, lines: list[str], count: int) -> None:
    """Collect the process's output lines until ``count`` of them have been read."""
    assert proc.stdout is not None
    while len(lines) < count:
        raw = await proc.stdout.readline()
        if not raw:
            break
        lines.append(raw.decode().rstrip("\n"))


async def test_unreachable_discord_says_one_line_per_attempt_then_connects(
    tmp_path: Path,
) -> None:
    """Nothing listens where Discord should be: each attempt prints one line naming the address
    and the reason (no traceback), the waits grow, and once Discord is there the bot logs in."""
    port = free_port()
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    fake = FakeDiscord(token=BOT_TOKEN)
    try:
        clock = ScaledClock(50.0)  # the backoff's 2 s … 60 s pass in 0.04 s … 1.2 s
        env = bot_env(tmp_path, f"http://127.0.0.1:{port}", hh.base_url, **clock_env(clock))
        proc = await start_bot(tmp_path, env)
        lines: list[str] = []
        await asyncio.wait_for(read_lines(proc, lines, 4), 60)
        await fake.start(port)
        await fake.wait_for(lambda: fake.gateway.identify_count > 0, timeout=30)
        rest = await stop_bot(proc)
        assert proc.returncode == 0, "\n".join(lines) + rest
    finally:
        await fake.close()
        await hh.close()
    assert len(lines) == 4, lines
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    whys = {m.group("why") for m in matches if m}
    assert whys == {f"connecting to 127.0.0.1:{port} failed (Connection refused)"}
    waits = [int(m.group("wait")) for m in matches if m]
    assert waits == sorted(waits) and waits[-1] > waits[0], waits  # growing, jitter aside
    after = rest.splitlines()
    assert not [line for line in after if LINE.match(line) is None and " WARNING " in line]
    assert "Traceback" not in rest and BOT_TOKEN not in rest
    assert fake.sync_count == 1  # it got all the way through start-up


async def test_unresolvable_discord_names_the_dns_failure(tmp_path: Path) -> None:
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    try:
        env = bot_env(tmp_path, "http://hh-no-discord.invalid", hh.base_url)
        proc = await start_bot(tmp_path, env)
        lines: list[str] = []
        await asyncio.wait_for(read_lines(proc, lines, 1), 60)
        rest = await stop_bot(proc)  # SIGTERM during the wait: a clean, quiet exit
    finally:
        await hh.close()
    assert proc.returncode == 0, [*lines, rest]
    match = LINE.match(lines[0])
    assert match, lines
    assert match.group("why").startswith("DNS lookup of hh-no-discord.invalid failed (")
    assert "Traceback" not in rest and not rest.strip(), rest


async def test_a_stop_request_ends_the_wait_between_attempts(tmp_path: Path) -> None:
    """In process, with an hour between attempts: the stop must not wait it out."""
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    saved = discord.http.Route.BASE
    discord.http.Route.BASE = f"http://127.0.0.1:{free_port()}/api/v10"
    services = await build_services(settings_for(tmp_path, hh), clock=SystemClock())
    try:
        stopping = asyncio.Event()
        backoff = ReconnectBackoff(base=3600.0, cap=3600.0)
        run = asyncio.create_task(
            bot.run_until_stopped(services, stopping, force_sync=False, backoff=backoff)
        )
        await eventually(lambda: backoff.attempts > 0, timeout=30, what="a failed attempt")
        assert not run.done()
        stopping.set()
        await asyncio.wait_for(run, 10)  # an hour's wait would fail this
    finally:
        discord.http.Route.BASE = saved
        await services.close()
        await hh.close()
