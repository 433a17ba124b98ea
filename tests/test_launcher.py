"""``python bot.py`` (through the test launcher) starts against the fakes and syncs only once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.bot_world import API_KEY, BOT_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import GUILD_ID
from tests.fakes.happyhorse import FakeHappyHorse

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
