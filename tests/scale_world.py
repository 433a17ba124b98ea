"""Several real bot processes on one PostgreSQL and one fake Discord, each running its shards.

    async with scale_world(tmp, pg_url, guilds=4, shard_count=2) as w:
        a = await w.start("0")        # python -m tests.launch_bot with SHARD_IDS=0
        b = await w.start("1")
        await w.ready()
        handle = await w.video(w.guild_ids[1])   # guild 1 is on shard 1: process b answers
        video = await w.delivered(handle)

The fake Discord routes each guild's events to the session of its shard, as Discord does
(``tests/fakes/discord_gateway.py``), so every process sees exactly its guilds' interactions;
the fake HappyHorse and the scaled clock live in the test process and the processes share the
clock through ``clock_env``. Each process can be frozen (SIGSTOP), resumed (SIGCONT), killed or
stopped; its output is kept for the test's assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hh_bot.clock import ScaledClock
from hh_bot.jobs.model import Job, JobState
from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from tests.bot_world import API_KEY, BOT_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_gateway import shard_of
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, GUILD_ID, FakeMember, StoredMessage
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.launch_bot import clock_env
from tests.test_launcher import bot_env, start_bot

FACTOR = 50.0
CDN = "https://cdn.discordapp.com/attachments/2000/{n}/{name}"
_images = itertools.count(1)


def guild_ids(count: int) -> list[int]:
    """``count`` guild ids, the first the fake's own guild; guild k is on shard k of any shard
    count dividing 4 (consecutive timestamps above ``GUILD_ID``'s, which is on shard 0)."""
    base = GUILD_ID >> 22
    assert base % 4 == 0
    return [GUILD_ID] + [((base + k) << 22) | 100 for k in range(1, count)]


def image() -> dict[str, Any]:
    n = next(_images)
    return {
        "filename": "ref.png",
        "data": b"\x89PNG" + bytes(16),
        "size": 200_000,
        "width": 800,
        "height": 600,
        "content_type": "image/png",
        "url": CDN.format(n=n, name="ref.png"),
    }


@dataclass
class BotProcess:
    shard_ids: str
    proc: asyncio.subprocess.Process
    logs: list[str] = field(default_factory=list)
    drain: asyncio.Task[None] | None = None
    frozen: bool = False

    @property
    def output(self) -> str:
        return "".join(self.logs)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.logs)

    def freeze(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)
        self.frozen = False

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        if self.drain is not None:
            await self.drain

    async def stop(self) -> None:
        if self.proc.returncode is None:
            if self.frozen:
                self.thaw()
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self.drain is not None:
            await self.drain


@dataclass
class ScaleWorld:
    tmp: Path
    clock: ScaledClock
    hh: FakeHappyHorse
    discord: FakeDiscord
    store: Store
    url: str
    shard_count: int
    guild_ids: list[int]
    channels: dict[int, int]  # guild id → its text channel
    env: dict[str, str]
    processes: list[BotProcess] = field(default_factory=list)

    async def start(self, shard_ids: str, **env: str) -> BotProcess:
        """Start a bot process running ``shard_ids`` of the world's shards."""
        full = bot_env(
            self.tmp,
            self.discord.url,
            self.hh.base_url,
            **clock_env(self.clock),
            **{**self.env, **env},
            SHARD_COUNT=str(self.shard_count),
            SHARD_IDS=shard_ids,
        )
        full["DATABASE_URL"] = self.url
        proc = await start_bot(self.tmp, full)
        bot = BotProcess(shard_ids, proc)
        bot.drain = asyncio.create_task(self._read(bot))
        self.processes.append(bot)
        return bot

    @staticmethod
    async def _read(bot: BotProcess) -> None:
        assert bot.proc.stdout is not None
        async for line in bot.proc.stdout:
            bot.logs.append(line.decode(errors="replace"))

    async def ready(self, timeout: float = 60.0) -> None:
        """Every shard has a gateway session and the commands are synced."""
        gateway = self.discord.gateway

        def up() -> bool:
            for bot in self.processes:
                if bot.proc.returncode is not None:
                    raise AssertionError(f"a bot exited {bot.proc.returncode}:\n{bot.output}")
            shards = all(s in gateway.by_shard for s in range(self.shard_count))
            names = {c["name"] for c in self.discord.synced_commands()}
            return shards and "video" in names

        await self.discord.wait_for(up, timeout=timeout, poll=0.05)

    def shard(self, guild_id: int) -> int:
        return shard_of(guild_id, self.shard_count)

    async def video(self, guild_id: int, prompt: str = "", user: int = ALICE_ID) -> FakeInteraction:
        prompt = prompt or f"character1 rides through guild {guild_id}"
        return await self.discord.invoke_slash(
            "video",
            {"prompt": prompt, "image1": image()},
            user=user,
            channel_id=self.channels[guild_id],
        )

    def videos_of(self, job_id: str) -> list[StoredMessage]:
        """Live messages carrying the job's video file."""
        name = f"hh-{job_id}.mp4"
        return [
            m
            for m in self.discord.messages.values()
            if not m.deleted and any(a.filename == name for a in m.attachments)
        ]

    def uploads(self, job_id: str) -> int:
        """Requests Discord answered that uploaded the job's video (a second one = twice)."""
        name = f"hh-{job_id}.mp4"
        return sum(
            1 for r in self.discord.requests if r.ok and any(f.filename == name for f in r.files)
        )

    async def jobs(self) -> list[Job]:
        return await self.store.jobs_in_states(list(JobState))

    async def all_final(self, count: int) -> list[Job] | None:
        jobs = await self.jobs()
        if len(jobs) == count and all(j.state.final for j in jobs):
            return jobs
        return None

    async def ledger(self, job_id: str) -> list[str]:
        return [e.kind for e in await self.store.ledger(job_id)]

    def output(self) -> str:
        return "\n".join(f"---- shards {b.shard_ids} ----\n{b.output}" for b in self.processes)


@asynccontextmanager
async def scale_world(
    tmp: Path,
    url: str,
    *,
    guilds: int = 2,
    shard_count: int = 2,
    script: TaskScript | None = None,
    factor: float = FACTOR,
    listen_backlog: int = 1024,  # hundreds of commands at once must not hit SYN retries
    **env: str,
) -> AsyncIterator[ScaleWorld]:
    """The fakes and a store handle on ``url`` in this process; bot processes via ``start``."""
    await asyncio.to_thread(tmp.mkdir, parents=True, exist_ok=True)  # the processes' cwd
    clock = ScaledClock(factor)
    hh = FakeHappyHorse(api_key=API_KEY, clock=clock, default_script=script or TaskScript())
    await hh.start()
    base_env = {
        "USER_DAILY_LIMIT_USD": "none",
        "USER_MONTHLY_LIMIT_USD": "none",
        "GUILD_DAILY_LIMIT_USD": "none",
        "MAX_QUEUED_PER_USER": "50",
        "MAX_CONCURRENT_PER_USER": "50",
        "GLOBAL_ACTIVE_TASKS": "50",
    }
    store = await open_store(url)
    try:
        fake = FakeDiscord(token=BOT_TOKEN)
        fake.listen_backlog = listen_backlog
        async with fake:
            ids = guild_ids(guilds)
            channels: dict[int, int] = {}
            for n, gid in enumerate(ids):
                if gid != GUILD_ID:
                    fake.add_guild(f"guild {n}", guild_id=gid)
                guild = fake.guilds[gid]
                guild.members.setdefault(ALICE_ID, FakeMember(fake.user(ALICE_ID)))
                channels[gid] = fake.add_text_channel(gid, f"videos-{n}").id
            world = ScaleWorld(
                tmp, clock, hh, fake, store, url, shard_count, ids, channels, {**base_env, **env}
            )
            try:
                yield world
            finally:
                await asyncio.gather(*(b.stop() for b in world.processes))
    finally:
        await store.close()
        await hh.close()
