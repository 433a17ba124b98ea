"""Shards over several processes: SHARD_COUNT / SHARD_IDS, the claim each process makes on its
shards, and a second process started with shards a live one runs refused with one line (exit 2)
— through the real entry point against the fake Discord, on one PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hh_bot.clock import ScaledClock
from hh_bot.config import ConfigError, load_settings
from hh_bot.shards import CLAIM_LENGTH, ShardClaims, ShardPlan, ShardsInUse
from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from tests.bot_world import API_KEY, BOT_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.happyhorse import FakeHappyHorse
from tests.pg_server import PgServer
from tests.test_launcher import bot_env, start_bot, stop_bot

BASE = {"DISCORD_TOKEN": "t", "APIYI_API_KEY": "k"}


def test_shard_settings() -> None:
    assert load_settings(BASE).shards is None
    assert load_settings(BASE | {"SHARD_COUNT": "4", "SHARD_IDS": "0,1"}).shards == ShardPlan(
        4, (0, 1)
    )
    assert load_settings(BASE | {"SHARD_COUNT": "8", "SHARD_IDS": "4-5, 7"}).shards == ShardPlan(
        8, (4, 5, 7)
    )
    assert load_settings(BASE | {"SHARD_COUNT": "3"}).shards == ShardPlan(3, (0, 1, 2))


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SHARD_IDS": "0,1"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,2"}, "SHARD_IDS [2] not below SHARD_COUNT=2"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "one"}, "SHARD_IDS is malformed"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1-0"}, "SHARD_IDS is malformed"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT is malformed"),
    ],
)
def test_bad_shard_settings_are_one_clear_error(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("[", r"\[").replace("]", r"\]")):
        load_settings(BASE | env)


@pytest.fixture
async def pg_url(pg_server: PgServer) -> str:
    return await pg_server.emptied_url()


@pytest.mark.postgres
async def test_overlapping_claims_are_refused_until_released_or_expired(pg_url: str) -> None:
    clock = ScaledClock(1.0)
    first, second = await open_store(pg_url), await open_store(pg_url)
    try:
        a = ShardClaims(first, clock, ShardPlan(4, (0, 1)))
        b = ShardClaims(second, clock, ShardPlan(4, (1, 2)))
        c = ShardClaims(second, clock, ShardPlan(4, (2, 3)))
        await a.claim()
        with pytest.raises(ShardsInUse) as refused:
            await b.claim()
        line = str(refused.value)
        assert "\n" not in line and line.startswith("shard(s) 1 of 4 are already run")
        assert a.holder in line and "give each process its own SHARD_IDS" in line
        await c.claim()  # disjoint: fine
        with pytest.raises(ShardsInUse):
            await b.claim()  # 2 is c's now, 1 still a's
        await a.release()
        await c.release()
        await b.claim()
        clock.advance(CLAIM_LENGTH)  # b died without releasing: its claim expires
        await ShardClaims(first, clock, ShardPlan(4, (1,))).claim()
    finally:
        await first.close()
        await second.close()


async def test_on_sqlite_a_dead_predecessors_claim_does_not_block(tmp_path: Path) -> None:
    """SQLite is one process (a second is refused by its lock file): any claim found is a
    crashed predecessor's, never a reason to refuse."""
    store: Store = await open_store(f"sqlite:///{tmp_path / 'hh.sqlite3'}")
    try:
        clock = ScaledClock(1.0)
        await ShardClaims(store, clock, ShardPlan(2, (0, 1))).claim()  # never released
        await ShardClaims(store, clock, ShardPlan(2, (0, 1))).claim()
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_second_process_with_the_same_shards_is_refused(
    tmp_path: Path, pg_url: str
) -> None:
    """Two ``bot.py`` processes on one PostgreSQL: the first runs shards 0 and 1 of 2 (two
    gateway sessions, one per shard); the second, given shard 1 too, exits 2 with one line,
    before it connects to Discord."""
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            env = bot_env(tmp_path, fake.url, hh.base_url, SHARD_COUNT="2")
            env["DATABASE_URL"] = pg_url
            first = await start_bot(tmp_path, env | {"SHARD_IDS": "0,1"})
            try:
                await fake.wait_for(
                    lambda: fake.gateway.identify_count >= 2 or first.returncode is not None,
                    timeout=30,
                )
                assert first.returncode is None, await stop_bot(first)
                second = await start_bot(tmp_path, env | {"SHARD_IDS": "1"})
                out, _ = await asyncio.wait_for(second.communicate(), 30)
                output = out.decode()
                assert second.returncode == 2, output
                [line] = [x for x in output.splitlines() if "shard" in x]
                assert "ERROR" in line and "shard(s) 1 of 2 are already run by another" in line
                assert "Traceback" not in output
                assert fake.gateway.identify_count == 2  # the second never connected
            finally:
                output = await stop_bot(first)
            assert first.returncode == 0, output
            assert "running shard(s) 0,1 of 2" in output
        # a clean stop released the claim: the shards are free at once
        store = await open_store(pg_url)
        try:
            await ShardClaims(store, ScaledClock(1.0), ShardPlan(2, (0, 1))).claim()
        finally:
            await store.close()
    finally:
        await hh.close()
