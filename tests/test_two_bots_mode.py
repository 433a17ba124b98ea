"""The two-bot mode of ``tests.bot_world`` really runs two bots on one PostgreSQL database.

Marked ``two_bots``, this runs with one bot on SQLite and with two (``tests/conftest.py``); with
two, both shards have a gateway session, the test guild's command reaches the first bot's shard
only, both bots' stores are one database, and the job is driven once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hh_bot.jobs.model import Job
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import GUILD_ID
from tests.waiting import eventually


@pytest.mark.two_bots
async def test_the_world_runs_as_many_bots_as_asked_on_one_database(
    tmp_path: Path, bots: int
) -> None:
    async with bot_world(tmp_path) as w:
        handle = await w.video()
        result = await w.outcome(handle)
        assert result.attachments, "the video arrived"
        job = await eventually(lambda: final(w, handle), what="the job's end in the store")
        if bots == 1:
            assert w.second is None and w.discord.gateway.shard_count is None
            assert w.services.settings.database_url.startswith("sqlite:///")
            return
        assert w.second is not None and w.second.shard_ids == [1]
        gateway = w.discord.gateway
        assert sorted(gateway.by_shard) == [0, 1] and gateway.shard_count == 2
        routed = {
            shard
            for shard, session in gateway.by_shard.items()
            for frame in session.sent
            if frame["t"] == "INTERACTION_CREATE" and frame["d"]["id"] == str(handle.id)
        }
        assert routed == {0} and w.bot.shard_ids == [0], f"guild {GUILD_ID} is on shard 0"
        url = w.services.settings.database_url
        assert url.startswith("postgresql://") and w.second.services.settings.database_url == url
        assert (await w.second.services.store.get_job(job.id)) == job
        assert len(w.hh.creates()) == 1
        assert [e.kind for e in await w.second.services.store.ledger(job.id)] == [
            "reserve",
            "commit",
        ]


async def final(w: BotWorld, handle: FakeInteraction) -> Job | None:
    job = await w.job_of(handle)
    return job if job.state.final else None
