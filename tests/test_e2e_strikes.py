"""Provider moderation refusals as members meet them: two refusals in a UTC day (one at create,
one by the task) earn the ladder's cooldown, the third /video is refused with its reset time
before anything is created or reserved, and /quota shows it; the cooldown lifts on time."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from cogs.ui import strings as s
from hh_bot.errors import ModerationBlocked, QuotaExceeded, TaskFailed
from hh_bot.jobs.model import JobState
from tests.bot_world import BotWorld, bot_world, default_limits
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID
from tests.fakes.happyhorse import TaskScript
from tests.test_e2e_admin import start_of_a_day
from tests.waiting import eventually

RESET = re.compile(r"<t:(\d+):R>")
HOUR = 3600.0


def world(tmp_path: Path, **overrides: Any):
    allowed = (QuotaExceeded, ModerationBlocked, TaskFailed)
    return bot_world(tmp_path, allow_errors=allowed, **overrides)


async def refused_by_moderation(w: BotWorld, prompt: str) -> float:
    """Run a /video the provider refuses; when its job ended."""
    handle = await w.video(prompt)
    assert "accepted" in await w.private_answer(handle)
    outcome = await w.outcome(handle)
    assert s.MODERATION in (outcome.content or "") + str(outcome.embeds)
    job = await w.job_of(handle)
    assert job.state is JobState.FAILED

    async def settled() -> bool:
        return await w.services.store.charge_of(job.id) == "released"

    await eventually(settled, timeout=10, what="the refused job released")
    return job.updated_at


async def quota_fields(w: BotWorld, user: int = ALICE_ID) -> dict[str, str]:
    handle = await w.discord.invoke_slash("quota", user=user)
    message = await w.discord.wait_for_original(
        handle.token, until=lambda m: bool(m.embeds) and not m.loading
    )
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields", [])}


async def test_two_refusals_cool_the_member_down_before_anything_is_created(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, limits=default_limits()) as w:
        start_of_a_day(w)
        w.hh.create_faults.append("moderation")  # refused at create
        await refused_by_moderation(w, "first try")
        assert (
            s.QUOTA_STRIKES_LINE.format(count=1, next="1 h")
            == (await quota_fields(w))[s.QUOTA_STRIKES]
        )
        w.hh.scripts.append(
            TaskScript(duration=5, outcome="failed", fail_code="DataInspectionFailed")
        )  # refused by the task
        second = await refused_by_moderation(w, "second try")

        creates, rows = w.creates(), await w.rows()
        text = await w.private_answer(await w.video("third try"))
        assert text.startswith(s.QUOTA["moderation_cooldown"].split("{")[0]), text
        found = RESET.search(text)
        assert found is not None and abs(float(found[1]) - (second + HOUR)) <= 1
        assert w.creates() == creates and await w.rows() == rows, "nothing made or reserved"

        shown = (await quota_fields(w))[s.QUOTA_STRIKES]
        assert shown == s.QUOTA_STRIKES_COOLING.format(count=2, resets=f"<t:{found[1]}:R>")
        assert s.QUOTA_STRIKES not in await quota_fields(w, BOB_ID)  # Bob is not affected
        assert "accepted" in await w.private_answer(await w.video("bob's", user=BOB_ID))

        w.clock.advance(second + HOUR + 1 - w.clock.now())
        assert "accepted" in await w.private_answer(await w.video("after the cooldown"))


async def test_the_ladder_is_a_setting(tmp_path: Path) -> None:
    ladder = (dt.timedelta(0), dt.timedelta(0), dt.timedelta(minutes=30))
    limits = replace(default_limits(), moderation_cooldowns=ladder)
    async with world(tmp_path, limits=limits) as w:
        start_of_a_day(w)
        for n in range(2):
            w.hh.create_faults.append("moderation")
            await refused_by_moderation(w, f"try {n}")
        assert "accepted" in await w.private_answer(await w.video("no cooldown yet"))
