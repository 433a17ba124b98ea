"""/settings and /hh-admin rules end to end: slash commands over the fake Discord, the effect
checked in the create request the fake HappyHorse received and in what Discord carried.

A member's settings fill what /video leaves out and survive a restart (the same database, a new
bot); the server's rules cap them and the member is told in the private "started" message; a
DM preference sends the result to the DMs first and falls back to the usual routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from discord import app_commands

from cogs.ui import strings as s
from hh_bot.jobs.delivery import VideoResult
from hh_bot.jobs.model import Job, JobState
from tests.bot_world import BotWorld, bot_world, description_of, modal_inputs
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ADMIN_ID, ALICE_ID, BOB_ID, StoredMessage
from tests.waiting import eventually

FACTOR = 50.0  # the suite's rule: scaled clocks at most 50×


async def answer(w: BotWorld, handle: FakeInteraction) -> StoredMessage:
    message = await w.discord.wait_for_original(
        handle.token, until=lambda m: not m.loading and bool(m.content or m.embeds), timeout=10
    )
    assert message.ephemeral, "settings are private"
    return message


async def settings(w: BotWorld, user: int = ALICE_ID, **options: Any) -> StoredMessage:
    return await answer(w, await w.discord.invoke_slash("settings", options, user=user))


async def rules(w: BotWorld, **options: Any) -> str:
    handle = await w.discord.invoke_slash("hh-admin rules", options, user=ADMIN_ID)
    return await w.private_answer(handle)


def parameters(w: BotWorld, index: int = -1) -> dict[str, Any]:
    return dict(w.hh.creates()[index].json["parameters"])


def prompt_sent(w: BotWorld, index: int = -1) -> str:
    return str(w.hh.creates()[index].json["input"]["prompt"])


async def test_settings_fill_the_request_and_survive_a_restart(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR) as w:
        fresh = await settings(w)  # no option: the card alone, all from the server
        assert not fresh.content and s.SETTINGS_SOURCES["yours"] not in description_of(fresh)
        assert s.SETTINGS_SOURCES["server"] in description_of(fresh)
        saved = await settings(
            w, resolution="1080P", duration=8, ratio="9:16", watermark=True,
            prompt_extend=False, suffix="film grain, 35 mm",
        )  # fmt: skip
        assert saved.content == s.SETTINGS_SAVED
        card = description_of(saved)
        assert "1080P" in card and "8 s" in card and "`film grain, 35 mm`" in card
        assert s.SETTINGS_SOURCES["yours"] in card
        # The next world's fake Discord is new and knows no commands: let the bot sync again.
        for key in [
            k for k in await w.services.store.settings_in("bot") if k.startswith("commands:")
        ]:
            await w.services.store.set_setting("bot", key, None)
    # A new bot on the same database: the settings are still there.
    async with bot_world(tmp_path, factor=FACTOR) as w:
        await w.outcome(await w.video("a horse on the beach"))
        params = parameters(w)
        assert (params["resolution"], params["duration"], params["ratio"]) == ("1080P", 8, "9:16")
        assert params["watermark"] is True and params["prompt_extend"] is False
        assert prompt_sent(w) == "a horse on the beach film grain, 35 mm"
        # An option still wins over the member's setting; another member is untouched.
        await w.outcome(await w.video("the option wins", duration=3, resolution="720P"))
        params = parameters(w)
        assert (params["resolution"], params["duration"]) == ("720P", 3)
        await w.outcome(await w.video("bob's", user=BOB_ID))
        params = parameters(w)
        assert (params["resolution"], params["duration"]) == ("720P", 5)
        assert prompt_sent(w) == "bob's"
        # Reset one, then all.
        left = await settings(w, reset="suffix")
        assert left.content == s.SETTINGS_RESET_DONE and "film grain" not in description_of(left)
        assert "1080P" in description_of(left)
        cleared = await settings(w, reset="all")
        assert s.SETTINGS_SOURCES["yours"] not in description_of(cleared)
        assert await w.services.store.user_settings(ALICE_ID) is None


async def test_server_rules_cap_settings_and_options_and_say_so(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR, allow_errors=(app_commands.CheckFailure,)) as w:
        shown = await rules(w, resolutions="720P", max_duration=6)
        assert shown == s.ADMIN_RULES_SHOWN.format(resolutions="720P", max_duration=6)
        card = description_of(await settings(w, resolution="1080P"))
        assert s.SETTINGS_SOURCES["capped"] in card
        handle = await w.video("capped", duration=12)
        started = await w.private_answer(handle)
        parts = [
            s.SETTINGS_CAPPED_PARTS["resolution"].format(value="720P"),
            s.SETTINGS_CAPPED_PARTS["duration"].format(value=6),
        ]
        assert started.endswith(s.SETTINGS_CAPPED.format(changes=", ".join(parts))), started
        await w.outcome(handle)
        params = parameters(w)
        assert (params["resolution"], params["duration"]) == ("720P", 6)
        job = await w.job_of(handle)
        assert job.cost == 6 * w.services.settings.price_720p_milli  # charged what was made
        # Within the rules nothing is said.
        quiet = await w.video("fits", duration=4, resolution="720P")
        assert s.SETTINGS_CAPPED.split("{")[0] not in await w.private_answer(quiet)
        # A member may not change the rules (Discord hides the command; a raw call is refused).
        payload = w.discord.slash_payload(
            "hh-admin rules", {"reset": True}, user=ALICE_ID, enforce=False
        )
        assert await w.private_answer(await w.discord.invoke_raw(payload)) == s.ADMIN_ONLY
        lifted = await rules(w, reset=True)
        assert lifted == s.ADMIN_RULES_SHOWN.format(resolutions="720P, 1080P", max_duration=15)
        await w.outcome(await w.video("free again", duration=12))
        assert parameters(w)["resolution"] == "1080P" and parameters(w)["duration"] == 12


async def test_dm_first_sends_the_result_by_dm_and_falls_back(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR) as w:
        await settings(w, delivery="dm")
        handle = await w.video("to my DMs")
        reply = await w.wait_reply(handle)
        dm = await w.discord.wait_for(
            lambda: next(iter(w.discord.dm_messages(ALICE_ID)), None), timeout=15
        )
        assert [a.data for a in dm.attachments] == [w.hh.video_bytes]
        await w.discord.wait_for(lambda: reply.content == s.SENT_BY_DM.format(user_id=ALICE_ID))
        assert s.STATE_LABEL[JobState.DONE] in description_of(reply)
        assert not reply.attachments, "the video went to the DMs, not also to the channel"
        job_id = w.job_id_of(handle)

        async def done() -> Job | None:
            job = await w.services.store.get_job(job_id)
            return job if job is not None and job.state is JobState.DONE else None

        job = await eventually(done, what="the job stored done")
        assert job.result_channel_id == dm.channel_id and job.result_message_id == dm.id

        # DMs closed: the product spec's routes, the reply first.
        w.discord.deny_dm(ALICE_ID)
        closed = await w.video("DMs closed")
        result = await w.outcome(closed)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert result.channel_id != dm.channel_id
        assert len(w.discord.dm_messages(ALICE_ID)) == 1

        # The same delivery repeated after a restart, DMs open again by then: the result is
        # found where it went, and nobody is told twice.
        w.discord.denied_dms.discard(ALICE_ID)
        job = await w.job_of(closed)
        repeat = VideoResult(
            url="https://example.invalid/v.mp4", url_expires_at=0, file=None, size=None
        )
        placed = await w.bot.delivery.deliver(job, repeat)
        assert placed is not None and placed.message_id == result.id
        assert len(w.discord.dm_messages(ALICE_ID)) == 1


async def test_the_menus_form_is_prefilled_with_my_settings_within_the_rules(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path, factor=FACTOR) as w:
        await settings(w, resolution="1080P", duration=12, ratio="1:1", suffix="slow motion")
        await rules(w, max_duration=10)
        message = await w.discord.post_user_message(
            content="look", attachments=[w.image()], user=BOB_ID
        )
        before = len(w.discord.modals)
        await w.discord.invoke_message_command(s.MAKE_VIDEO_MENU, message.id)
        await w.discord.wait_for(lambda: len(w.discord.modals) > before)
        modal = w.discord.modals[-1].data
        inputs = modal_inputs(modal)
        assert inputs["resolution"]["value"] == "1080P"
        assert inputs["duration"]["value"] == "10"  # mine (12), capped by the rule
        assert inputs["ratio"]["value"] == "1:1"
        handle = await w.discord.submit_modal(
            str(modal["custom_id"]), {"prompt": "character1 waves"}, enforce=False
        )
        await w.outcome(handle)
        params = parameters(w)
        assert (params["resolution"], params["duration"], params["ratio"]) == ("1080P", 10, "1:1")
        assert prompt_sent(w) == "character1 waves slow motion"
