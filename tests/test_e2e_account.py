"""Quotas as users meet them through Discord, and /quota and /jobs (each user's own data only).

The rules themselves are unit-tested in ``test_quota.py``; here the same rules are driven
through /video and read back from what the fake Discord shows: which limit refused, when it
resets, that nothing was submitted, and that a failure gives the allowance back.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cogs.ui import strings as s
from hh_bot.access.quota import next_day, next_month
from hh_bot.errors import QuotaExceeded
from hh_bot.jobs.model import JobState
from tests.bot_world import BotWorld, bot_world, default_limits
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID, GUILD_ID, TEXT_CHANNEL_ID
from tests.fakes.happyhorse import TaskScript
from tests.matrix import WriteLock
from tests.waiting import eventually

JOB = 630  # millidollars: 720P × 5 s at $0.126/s, the default job
RESET = re.compile(r"<t:(\d+):R>")
REFUSALS = (QuotaExceeded,)  # expected: the tree's error handler turns them into the message


def limits(**changes: Any):
    return replace(default_limits(), **changes)


async def refused(w: BotWorld, handle: FakeInteraction) -> tuple[str, float | None]:
    """The private refusal of a /video, and the reset time it names (if any)."""
    text = await w.private_answer(handle)
    assert w.reply_of(handle) is None, "a refused request left a public reply"
    found = RESET.search(text)
    return text, float(found[1]) if found else None


async def accepted(w: BotWorld, handle: FakeInteraction) -> None:
    text = await w.private_answer(handle)
    assert "accepted" in text, text


async def all_final(w: BotWorld) -> None:
    async def probe() -> bool:
        jobs = await w.services.store.jobs_in_states(list(JobState))
        return all(j.state.final for j in jobs)

    await eventually(probe, timeout=15, what="every job final")


async def private_embed(w: BotWorld, handle: FakeInteraction) -> dict[str, Any]:
    message = await w.discord.wait_for_original(handle.token, until=lambda m: bool(m.embeds))
    assert message.ephemeral, "account information is private"
    return message.embeds[0]


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


LIMITS = [
    ("user_daily", "user_day", next_day, ALICE_ID),
    ("user_monthly", "user_month", next_month, ALICE_ID),
    ("guild_daily", "guild_day", next_day, BOB_ID),
    ("guild_monthly", "guild_month", next_month, BOB_ID),
]


@pytest.mark.parametrize(("setting", "reason", "reset", "second_user"), LIMITS)
async def test_over_a_limit_says_which_and_when_it_resets(
    tmp_path: Path, setting: str, reason: str, reset: Any, second_user: int
) -> None:
    async with bot_world(tmp_path, limits=limits(**{setting: JOB}), allow_errors=REFUSALS) as w:
        await accepted(w, await w.video("the one that fits"))
        before = w.clock.now()
        text, resets_at = await refused(w, await w.video("one too many", user=second_user))
        assert text == s.QUOTA[reason].format(resets=f"<t:{int(resets_at)}:R>")
        assert int(resets_at) in {int(reset(before)), int(reset(w.clock.now()))}
        assert w.creates() <= 1 and all(
            r.json["input"]["prompt"] != "one too many" for r in w.hh.creates()
        )
        assert len(await w.services.store.user_jobs(second_user)) == (second_user == ALICE_ID)
        if reason in ("user_day", "guild_day"):  # the next UTC day brings the allowance back
            await all_final(w)
            w.clock.advance(resets_at - w.clock.now() + 1)
            await accepted(w, await w.video("a new day", user=second_user))


@pytest.mark.two_bots
async def test_concurrent_and_queued_caps(tmp_path: Path) -> None:
    caps = limits(max_concurrent_per_user=1, max_queued_per_user=1)
    async with bot_world(tmp_path, limits=caps, allow_errors=REFUSALS) as w:
        w.hh.scripts.append(TaskScript(duration=200))
        first, second = await w.video("first"), await w.video("second")
        await accepted(w, first)
        await accepted(w, second)
        text, _ = await refused(w, await w.video("third"))
        assert text == s.QUOTA["too_many_jobs"]
        await accepted(w, await w.video("bob is not affected", user=BOB_ID))
        await all_final(w)
        prompts = [r.json["input"]["prompt"] for r in w.hh.creates()]
        assert "third" not in prompts
        store = w.services.store
        jobs = {j.params.prompt: j for j in await store.user_jobs(ALICE_ID)}
        # One at a time for Alice: her later task started only after the other was done.
        # (Sent together, either may be admitted first: PostgreSQL's pool keeps no order.)
        earlier, later = sorted((jobs["first"], jobs["second"]), key=lambda j: j.submitted_at)
        assert later.submitted_at >= earlier.completed_at
        await accepted(w, await w.video("room again"))


async def test_cooldown_between_submissions(tmp_path: Path) -> None:
    async with bot_world(
        tmp_path, limits=limits(cooldown_seconds=600.0), allow_errors=REFUSALS
    ) as w:
        await accepted(w, await w.video("first"))
        first = (await w.services.store.user_jobs(ALICE_ID))[0]
        text, resets_at = await refused(w, await w.video("too soon"))
        assert resets_at == int(first.created_at + 600)
        assert text == s.QUOTA["cooldown"].format(resets=f"<t:{int(resets_at)}:R>")
        await accepted(w, await w.video("bob may", user=BOB_ID))
        w.clock.advance(first.created_at + 601 - w.clock.now())
        await accepted(w, await w.video("later"))


async def test_a_failed_job_gives_its_allowance_back(tmp_path: Path) -> None:
    async with bot_world(tmp_path, limits=limits(user_daily=JOB)) as w:
        w.hh.scripts.append(TaskScript(outcome="failed", fail_code="InternalError"))
        handle = await w.video("fails upstream")
        await accepted(w, handle)
        outcome = await w.outcome(handle)
        assert s.NOTHING_CHARGED.split()[0] in str(outcome.embeds) + outcome.content
        quota = fields(await private_embed(w, await w.discord.invoke_slash("quota")))
        assert quota[s.QUOTA_TODAY].startswith(s.USAGE_LINE.split("{")[0] + "$0.00")
        second = await w.video("fits again")
        await accepted(w, second)
        assert (await w.outcome(second)).attachments
        await all_final(w)
        ledger = [e.kind for e in await w.services.store.ledger()]
        assert ledger == ["reserve", "release", "reserve", "commit"]


async def test_quota_shows_own_usage_limits_jobs_and_resets(tmp_path: Path) -> None:
    caps = limits(user_daily=2000, user_monthly=20000, guild_daily=10000)
    async with bot_world(tmp_path, limits=caps) as w:
        w.hh.scripts.append(TaskScript(duration=400))
        await accepted(w, await w.video("alice runs", duration=5))
        await accepted(w, await w.video("bob runs", user=BOB_ID, duration=10))
        now = w.clock.now()
        alice = await private_embed(w, await w.discord.invoke_slash("quota"))
        f = fields(alice)
        assert f[s.QUOTA_TODAY] == s.USAGE_LINE.format(
            spent="$0.63", limit="$2.00", left="$1.37", resets=f"<t:{int(next_day(now))}:R>"
        )
        assert f[s.QUOTA_MONTH].startswith("Used $0.63 of $20.00 · left $19.37")
        assert f[s.QUOTA_SERVER_TODAY].startswith("Used $1.89 of $10.00")  # both users
        assert "unlimited" in f[s.QUOTA_SERVER_MONTH]
        assert f[s.QUOTA_JOBS] == s.QUOTA_JOBS_LINE.format(running=1, queued=0)
        assert "0.13" in alice["footer"]["text"] and "0.22" in alice["footer"]["text"]
        bob = fields(await private_embed(w, await w.discord.invoke_slash("quota", user=BOB_ID)))
        assert bob[s.QUOTA_TODAY].startswith("Used $1.26 of $2.00")


@pytest.mark.sqlite_file
async def test_quota_defers_and_reads_while_another_process_writes(tmp_path: Path) -> None:
    """/quota acknowledges at once and takes no write lock: another process holding it (past
    the store's busy_timeout) doesn't delay or fail the answer."""
    async with bot_world(tmp_path) as w:
        await accepted(w, await w.video("alice runs"))
        await w.services.store.set_busy_timeout(0.1)
        lock = WriteLock(tmp_path / "hh.sqlite3")
        await lock.acquire()
        try:
            handle = await w.discord.invoke_slash("quota")
            quota = fields(await private_embed(w, handle))
        finally:
            await lock.close()
        assert quota[s.QUOTA_TODAY].startswith("Used $0.63")
        first = w.discord.interaction_responses(handle.token)[0]
        assert first.json["type"] == 5, "the first answer is a defer"


async def test_jobs_lists_only_the_users_own_jobs(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        alice_handles = [await w.video("alice cat"), await w.video("alice dog")]
        bob_handle = await w.video("bob secret", user=BOB_ID)
        for handle in [*alice_handles, bob_handle]:
            await w.outcome(handle)
        await all_final(w)
        store = w.services.store
        alice_jobs = await store.user_jobs(ALICE_ID)
        (bob_job,) = await store.user_jobs(BOB_ID)

        listing = await private_embed(w, await w.discord.invoke_slash("jobs"))
        text = listing["description"]
        for job in alice_jobs:
            assert f"`{job.id}`" in text
            link = f"https://discord.com/channels/{GUILD_ID}/{TEXT_CHANNEL_ID}/"
            assert link + str(job.result_message_id) in text
        assert s.STATE_LABEL[JobState.DONE] in text and "alice cat" in text
        assert bob_job.id not in text and "bob secret" not in text

        bob_listing = await private_embed(w, await w.discord.invoke_slash("jobs", user=BOB_ID))
        assert bob_job.id in bob_listing["description"]
        assert all(j.id not in bob_listing["description"] for j in alice_jobs)

        carol = await w.discord.invoke_slash("jobs", user="carol")
        message = await w.discord.wait_for_original(carol.token, until=lambda m: bool(m.content))
        assert message.content == s.NO_JOBS and message.ephemeral
