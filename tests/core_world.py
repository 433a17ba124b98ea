"""The core wired to the fake HappyHorse server and a recording delivery, on one scaled clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from hh_bot.access.policy import Policy
from hh_bot.access.quota import Quota, cost_of
from hh_bot.api.client import HappyHorseClient
from hh_bot.clock import ScaledClock
from hh_bot.config import Limits, Secret, Settings
from hh_bot.jobs.model import Job, JobParams, ReplyTarget, new_job_id
from hh_bot.jobs.polling import PollPlanner
from hh_bot.jobs.runner import Runner, RunnerConfig
from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from hh_bot.store.sqlite import SqliteStore
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.fakes.recording_delivery import RecordingDelivery

API_KEY = "sk-test-KEY-0123456789abcdef"
FACTOR = 400.0  # virtual seconds per real second: a 2-minute task takes 0.3 s
LEASE = 3600.0
"""Job lease length of these worlds unless a test sets one: the default 120 s is 0.3 s of real
time at FACTOR, which a loaded machine's scheduler can let lapse between two renewals."""


@dataclass
class CoreWorld:
    clock: ScaledClock
    fake: FakeHappyHorse
    store: Store
    api: HappyHorseClient
    delivery: RecordingDelivery
    runner: Runner
    quota: Quota
    policy: Policy
    settings: Settings
    session: aiohttp.ClientSession
    config: RunnerConfig
    tmp: Path

    def make_job(self, user_id: int = 1, guild_id: int | None = 10, **params: Any) -> Job:
        base = JobParams(
            prompt="character1 walks through a sunset garden",
            image_urls=("https://cdn.discordapp.com/attachments/1/2/a.png",),
            image_labels=("image1",),
            resolution="720P",
            duration=5,
            ratio="16:9",
            watermark=False,
            prompt_extend=True,
        )
        p = replace(base, **params)
        now = self.clock.now()
        reply = ReplyTarget(
            channel_id=20,
            application_id=30,
            interaction_token="tok",
            token_expires_at=now + 900,
            message_id=40,
        )
        return Job(
            id=new_job_id(),
            user_id=user_id,
            guild_id=guild_id,
            params=p,
            reply=reply,
            cost=cost_of(self.settings, p.resolution, p.duration),
            created_at=now,
            updated_at=now,
        )

    async def submit(self, job: Job | None = None, **kw: Any) -> Job:
        job = job or self.make_job(**kw)
        await self.quota.admit(job)
        await self.runner.enqueue(job)
        return job

    async def restart(self) -> None:
        """Stop the runner as a crash would, then start a new one on the same store."""
        await self.runner.stop()
        self.delivery = RecordingDelivery()
        self.runner = _runner(self)
        await self.runner.start()


def _runner(w: CoreWorld) -> Runner:
    return Runner(
        store=w.store,
        api=w.api,
        delivery=w.delivery,
        clock=w.clock,
        planner=PollPlanner(),
        config=w.config,
        tmp_dir=w.tmp / "videos",
    )


@asynccontextmanager
async def core_world(
    tmp: Path,
    *,
    script: TaskScript | None = None,
    config: RunnerConfig | None = None,
    limits: Limits | None = None,
    factor: float = FACTOR,
    store_url: str | None = None,
    **fake_options: Any,
) -> AsyncIterator[CoreWorld]:
    clock = ScaledClock(factor)
    fake = FakeHappyHorse(api_key=API_KEY, clock=clock, default_script=script or TaskScript())
    for key, value in fake_options.items():
        setattr(fake, key, value)
    await fake.start()
    settings = Settings(
        discord_token=Secret("discord-token-XYZ"),
        apiyi_api_key=Secret(API_KEY),
        apiyi_base_url=fake.base_url,
        limits=limits
        or Limits(user_daily=None, user_monthly=None, guild_daily=None, max_queued_per_user=20),
    )
    store = await open_store(store_url) if store_url else await SqliteStore.open(tmp / "hh.sqlite3")
    session = aiohttp.ClientSession()
    api = HappyHorseClient(session, base_url=fake.base_url, api_key=API_KEY, clock=clock)
    policy = Policy(store, settings.limits, settings.defaults)
    world = CoreWorld(
        clock=clock,
        fake=fake,
        store=store,
        api=api,
        delivery=RecordingDelivery(),
        runner=None,
        quota=Quota(store, policy, settings, clock),
        policy=policy,  # type: ignore[arg-type]
        settings=settings,
        session=session,
        config=config or RunnerConfig(lease_length=LEASE),
        tmp=tmp,
    )
    world.runner = _runner(world)
    await world.runner.start()
    try:
        yield world
    finally:
        await world.runner.stop()
        await session.close()
        await store.close()
        await fake.close()
