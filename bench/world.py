"""The benchmark's world: the fake Discord and the fake HappyHorse on one scaled clock.

A fresh world is built for every bot process, so the two bots never share state. Simulated users
are members of one guild, spread over several text channels (``users_per_channel`` each), and
every task's duration is chosen from the tag in its prompt (see ``bench.workload.JobSpec``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.workload import JobSpec
from hh_bot.clock import ScaledClock
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import GUILD_ID, FakeMember
from tests.fakes.discord_ratelimit import ChannelRateLimit
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.fakes.mp4 import make_mp4

API_KEY = "sk-bench-HHKEY-0123456789"
BOT_TOKEN = "MTI1.bench-TOKEN.s3cr3t-value"
CDN = "https://cdn.discordapp.com/attachments/1000/{n}/ref.png"
_TAG = re.compile(r"^\[([^\]]+)\]")


class BenchHappyHorse(FakeHappyHorse):
    """The fake API, with each task's script chosen by the tag at the start of its prompt."""

    plan: dict[str, TaskScript]

    def _new_task(self, body: Any) -> Any:
        prompt = ((body or {}).get("input") or {}).get("prompt", "")
        match = _TAG.match(prompt)
        script = self.plan.get(match.group(1)) if match else None
        if script is not None:
            self.scripts.appendleft(script)
        return super()._new_task(body)


def tag_of(prompt: str) -> str | None:
    match = _TAG.match(prompt)
    return match.group(1) if match else None


@dataclass
class WorldConfig:
    factor: float
    users: int  # members to create
    users_per_channel: int
    video_bytes: int
    rate_limit: int = 5
    rate_window: float = 5.0
    default_task_seconds: float = 3600.0  # tasks nobody planned (acknowledgement rounds)


@dataclass
class World:
    config: WorldConfig
    clock: ScaledClock
    hh: BenchHappyHorse
    discord: FakeDiscord
    limiter: ChannelRateLimit
    user_ids: list[int]
    channel_ids: list[int]
    warm_user: int
    images: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def channel_of(self, user_index: int) -> int:
        return self.channel_ids[
            (user_index // self.config.users_per_channel) % len(self.channel_ids)
        ]

    def image(self) -> dict[str, Any]:
        """A reference image attachment as the gateway describes it (metadata only)."""
        self.images += 1
        return {
            "filename": "ref.png",
            "data": b"\x89PNG" + bytes(16),
            "size": 200_000,
            "width": 800,
            "height": 600,
            "content_type": "image/png",
            "url": CDN.format(n=self.images),
        }

    def plan(self, jobs: list[JobSpec]) -> None:
        for job in jobs:
            self.hh.plan[job.tag] = TaskScript(duration=job.task_seconds)

    def payload(self, job: JobSpec, user_index: int | None = None) -> dict[str, Any]:
        """The INTERACTION_CREATE of one /video command (built now, pushed later)."""
        index = job.user_index if user_index is None else user_index
        options = {
            "prompt": job.prompt,
            "image1": self.image(),
            "resolution": job.resolution,
            "duration": job.duration,
        }
        return self.discord.slash_payload(
            "video", options, user=self.user_ids[index], channel_id=self.channel_of(index)
        )

    def warm_payload(self, tag: str) -> dict[str, Any]:
        job = JobSpec(tag, -1, "720P", 5, 40.0, 0.0)
        self.hh.plan[tag] = TaskScript(duration=40.0)
        options = {"prompt": job.prompt, "image1": self.image()}
        return self.discord.slash_payload(
            "video", options, user=self.warm_user, channel_id=self.channel_ids[0]
        )

    # virtual ⇄ monotonic (the fake Discord stamps requests with time.monotonic())
    def virtual(self, monotonic: float) -> float:
        start, origin = self.clock.origin
        return start + (monotonic - origin) * self.clock.factor

    def monotonic(self, virtual: float) -> float:
        start, origin = self.clock.origin
        return origin + (virtual - start) / self.clock.factor


@asynccontextmanager
async def world(config: WorldConfig) -> AsyncIterator[World]:
    clock = ScaledClock(config.factor)
    hh = BenchHappyHorse(
        api_key=API_KEY,
        clock=clock,
        default_script=TaskScript(duration=config.default_task_seconds),
        video_bytes=make_mp4(max(0, config.video_bytes - 150)),
    )
    hh.plan = {}
    await hh.start()
    fake = FakeDiscord(token=BOT_TOKEN)
    fake.keep_upload_bytes = False  # 100 × 8 MB uploads: keep size + SHA-256 only
    fake.listen_backlog = 1024  # 200 simultaneous connects must not hit SYN retries (1 s)
    limiter = ChannelRateLimit(
        fake, clock, limit=config.rate_limit, window=config.rate_window, factor=config.factor
    )
    fake.faults.append(limiter)  # type: ignore[arg-type]
    channels = config.users // max(1, config.users_per_channel) + 1
    channel_ids = [fake.add_text_channel(GUILD_ID, f"bench-{i}").id for i in range(channels)]
    users = []
    for i in range(config.users + 1):
        user = fake.add_user(f"user{i}")
        fake.guild.members[user.id] = FakeMember(user)
        users.append(user.id)
    try:
        async with fake:
            yield World(config, clock, hh, fake, limiter, users[:-1], channel_ids, users[-1])
    finally:
        await hh.close()
