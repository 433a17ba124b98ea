"""Two bot processes on one PostgreSQL pass the end-to-end path: each answers its own shards.

Two real ``bot.py`` processes (shards 0 and 1 of 2) share one database and one fake Discord,
which routes each guild's interactions to the process running its shard, as Discord does. A
/video in every guild is answered by the right process, each job is created once, delivered
once on the wire and charged once, and its Delete button (a component interaction, routed
like the command) removes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.happyhorse import TaskScript
from tests.pg_server import PgServer
from tests.scale_world import scale_world
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

GUILDS = 4  # two on each shard


async def test_two_processes_each_serve_their_shards_and_deliver_every_video_once(
    tmp_path: Path, pg_server: PgServer
) -> None:
    url = await pg_server.emptied_url()
    async with scale_world(tmp_path, url, guilds=GUILDS, script=TaskScript(duration=60)) as w:
        first, second = await w.start("0"), await w.start("1")
        await w.ready()
        handles = {gid: await w.video(gid) for gid in w.guild_ids}
        final = await eventually(lambda: w.all_final(GUILDS), timeout=60, what="every end")
        gateway = w.discord.gateway
        for gid, handle in handles.items():
            session = gateway.by_shard[w.shard(gid)]
            routed = [
                f
                for f in session.sent
                if f["t"] == "INTERACTION_CREATE" and f["d"]["id"] == str(handle.id)
            ]
            assert len(routed) == 1, f"guild {gid}'s /video did not reach shard {w.shard(gid)}"
        for job in final:
            assert job.state.value == "done", (job, w.output())
            assert await w.ledger(job.id) == ["reserve", "commit"]
            assert len(w.videos_of(job.id)) == 1 and w.uploads(job.id) == 1, w.output()
        assert {j.guild_id for j in final} == set(w.guild_ids)
        assert len(w.hh.creates()) == GUILDS
        # A button on each result goes to the process of its guild's shard too: Delete works.
        for job in final:
            [video] = w.videos_of(job.id)
            await w.discord.click_button(video.id, f"hh:delete:{job.id}")
        await w.discord.wait_for(
            lambda: all(not w.videos_of(j.id) for j in final), timeout=30, poll=0.05
        )
        for bot in (first, second):
            assert bot.said(f"running shard(s) {bot.shard_ids} of 2"), bot.output
            assert " ERROR " not in bot.output and "Traceback" not in bot.output, bot.output
