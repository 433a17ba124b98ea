"""The per-channel message budget: unit behaviour, and no 429s from a busy channel end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cogs.pacing import ChannelPacer
from tests.bot_world import bot_world
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID, CAROL_ID
from tests.fakes.discord_ratelimit import ChannelRateLimit
from tests.fakes.happyhorse import TaskScript


class ManualClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


def test_optional_edits_keep_one_slot_for_outcomes() -> None:
    pacer = ChannelPacer(ManualClock(), limit=5, window=5.0)
    assert [pacer.try_take(1) for _ in range(5)] == [True, True, True, True, False]
    assert pacer.try_take(2), "channels have separate budgets"


async def test_outcomes_wait_for_a_slot_instead_of_failing() -> None:
    clock = ManualClock()
    pacer = ChannelPacer(clock, limit=5, window=5.0)
    for _ in range(5):
        await pacer.take(7)
    start = clock.t
    await pacer.take(7)
    assert clock.t - start >= 5.0 - 1e-9
    clock.t += 5.0
    assert pacer.try_take(7)


async def test_a_busy_channel_draws_no_429s(tmp_path: Path) -> None:
    """Nine jobs from three users in one channel under Discord's per-channel limit: every
    result arrives and the fake never had to refuse a message."""
    async with bot_world(tmp_path, script=TaskScript(duration=90), progress_edit_interval=5.0) as w:
        limiter = ChannelRateLimit(w.discord, w.clock, limit=5, window=5.0, factor=w.clock.factor)
        w.discord.faults.append(limiter)
        handles = [
            await w.video(f"job {n}", user=u)
            for n in range(3)
            for u in (ALICE_ID, BOB_ID, CAROL_ID)
        ]
        results = [await w.outcome(h, timeout=30) for h in handles]
        assert all(r.attachments for r in results)
        assert limiter.counted > 9 and limiter.refused == 0
        assert w.discord.rate_limited_count == 0
