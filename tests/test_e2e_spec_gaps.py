"""Gaps between the bot and the specs, end to end through the fake Discord and the fake API:
threads of allowed channels, /jobs links to results delivered by DM, 2-second videos, and the
CJK prompt limit (issue #9, item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogs.ui import strings as s
from hh_bot.errors import BadInput, HHError
from hh_bot.jobs.model import JobState
from hh_bot.jobs.request_checks import MAX_PROMPT, clean_prompt, prompt_weight
from tests.bot_world import BotWorld, bot_world, is_final
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, GUILD_ID, TEXT_CHANNEL_ID
from tests.fakes.happyhorse import TaskScript
from tests.test_e2e_delivery import FACTOR, LONG, outlive_the_token
from tests.waiting import eventually


async def final_job_state(w: BotWorld, handle: FakeInteraction) -> JobState:
    async def final() -> JobState | None:
        job = await w.job_of(handle)
        return job.state if job.state.final else None

    state = await eventually(final, what="the job to end")
    assert state is not None
    return state


# -- threads ---------------------------------------------------------------------------------


async def test_a_thread_of_an_allowed_channel_is_allowed(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=30)) as w:
        await w.services.policy.set_channel_allowed(GUILD_ID, TEXT_CHANNEL_ID, True)
        thread = w.discord.add_thread(TEXT_CHANNEL_ID, "horse ideas")
        handle = await w.video(channel_id=thread.id)
        assert "accepted" in await w.private_answer(handle)
        reply = await w.wait_reply(handle)
        assert reply.channel_id == thread.id  # the reply lives in the thread itself
        result = await w.outcome(handle)
        assert result.channel_id == thread.id
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]


async def test_a_thread_of_another_channel_is_not(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(HHError,)) as w:
        videos = w.discord.add_text_channel(GUILD_ID, "videos")
        await w.services.policy.set_channel_allowed(GUILD_ID, videos.id, True)
        thread = w.discord.add_thread(TEXT_CHANNEL_ID, "off topic")
        handle = await w.video(channel_id=thread.id)
        assert await w.private_answer(handle) == s.NOT_ALLOWED["channel"]
        assert await w.rows() == (0, 0) and w.creates() == 0


# -- /jobs links the result where it is -------------------------------------------------------


async def test_jobs_links_a_result_delivered_by_dm_to_the_dm(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=LONG, factor=FACTOR) as w:
        w.discord.deny_channel_send(TEXT_CHANNEL_ID)
        handle = await w.video()
        await outlive_the_token(w, handle)
        result = await w.outcome(handle)
        dm = w.discord.dm_channel(ALICE_ID)
        assert result.channel_id == dm.id
        assert await final_job_state(w, handle) is JobState.DONE
        job = await w.job_of(handle)
        assert (job.result_message_id, job.result_channel_id) == (result.id, dm.id)

        listing = await w.discord.invoke_slash("jobs")
        message = await w.discord.wait_for_original(listing.token, until=lambda m: bool(m.embeds))
        text = message.embeds[0]["description"]
        assert f"https://discord.com/channels/@me/{dm.id}/{result.id}" in text
        assert f"/{TEXT_CHANNEL_ID}/{result.id}" not in text


async def test_jobs_links_a_result_in_the_channel_to_the_channel(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=30)) as w:
        handle = await w.video()
        result = await w.outcome(handle)
        assert await final_job_state(w, handle) is JobState.DONE
        job = await w.job_of(handle)
        assert (job.result_message_id, job.result_channel_id) == (result.id, TEXT_CHANNEL_ID)
        listing = await w.discord.invoke_slash("jobs")
        message = await w.discord.wait_for_original(listing.token, until=lambda m: bool(m.embeds))
        link = f"https://discord.com/channels/{GUILD_ID}/{TEXT_CHANNEL_ID}/{result.id}"
        assert link in message.embeds[0]["description"]


# -- durations -------------------------------------------------------------------------------


async def test_two_seconds_goes_to_the_api_and_its_refusal_reaches_the_user(
    tmp_path: Path,
) -> None:
    """APIYI documents 2–15 s; the fake follows Alibaba's 3–15 and refuses 2. The bot sends it,
    the user reads the API's reason, and nothing is charged."""
    async with bot_world(tmp_path) as w:
        handle = await w.video(duration=2)
        assert "accepted" in await w.private_answer(handle)
        reply = await w.outcome(handle)
        assert await final_job_state(w, handle) is JobState.FAILED
        (create,) = w.hh.creates()
        assert create.json["parameters"]["duration"] == 2
        shown = reply.content + " ".join(str(e) for e in reply.embeds)
        assert "duration must be between 3 and 15" in shown
        kinds = sorted(e.kind for e in await w.services.store.ledger())
        assert kinds == ["release", "reserve"]
        assert is_final(reply)


# -- CJK prompt length -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "fits"),
    [
        ("a" * 5000, True),
        ("馬" * 2500, True),
        ("馬" * 2000 + "a" * 1000, True),
        ("馬" * 2501, False),
        ("馬" * 2000 + "a" * 1001, False),
        ("カ" * 2501, False),  # kana
        ("말" * 2501, False),  # Hangul
        ("Ａ" * 2501, False),  # fullwidth Latin counts like CJK
    ],
)
def test_wide_characters_count_double_against_the_limit(prompt: str, fits: bool) -> None:
    assert (prompt_weight(prompt) <= MAX_PROMPT) is fits
    if fits:
        assert clean_prompt(prompt) == prompt
    else:
        with pytest.raises(BadInput) as refused:
            clean_prompt(prompt)
        assert refused.value.reason == "long_prompt_cjk"
