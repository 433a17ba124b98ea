"""Retry on results whose Discord attachment URLs have expired, end to end over the fake Discord.

A /video upload is renewed through Discord's refresh endpoint; a "Make video" image through the
source message, fetched fresh. When neither works (the image or its message was deleted, the
endpoint refuses), the user is told privately which reference to attach again, and nothing is
created or charged."""

from __future__ import annotations

import time
from pathlib import Path

from cogs.ui import strings as s
from hh_bot.jobs.model import Job
from hh_bot.references.expiry import expires_at, is_expired
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord_payloads import BOB_ID, StoredMessage
from tests.fakes.discord_refresh import forget, signed
from tests.test_e2e_iterate import answer, delivered, new_job

MENU = s.MAKE_VIDEO_MENU
CDN = "https://cdn.discordapp.com/attachments/1000/{n}/{name}"


def expired_image(w: BotWorld, n: int, name: str = "old.png") -> dict[str, object]:
    """An attachment whose signed URL ran out an hour ago."""
    return w.image(name, url=signed(CDN.format(n=n, name=name), expires_at=time.time() - 3600))


def refreshes(w: BotWorld) -> list[list[str]]:
    found = w.discord.requests_matching("POST", r"^/attachments/refresh-urls$")
    return [r.json["attachment_urls"] for r in found if r.json]


async def test_retry_renews_an_expired_upload_through_the_refresh_endpoint(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path) as w:
        old, fresh = expired_image(w, 9001), w.image("fresh.png")
        job, result = await delivered(w, images=[old, fresh])
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}", user=BOB_ID)
        retried = await new_job(w, click)
        assert refreshes(w) == [[old["url"]]], "only the expired URL is renewed"
        renewed, kept = retried.params.image_urls
        assert kept == fresh["url"], "a valid URL is reused as it is"
        assert renewed != old["url"] and renewed.split("?")[0] == str(old["url"]).split("?")[0]
        renewed_at = expires_at(renewed)
        assert renewed_at is not None and renewed_at > time.time() + 3600
        media = [m["url"] for m in w.hh.creates()[-1].json["input"]["media"]]
        assert media == [renewed, kept]


async def test_remix_renews_an_expired_upload_too(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        old = expired_image(w, 9006)
        job, result = await delivered(w, images=[old])
        await w.discord.click_button(result.id, f"hh:remix:{job.id}")
        await w.discord.wait_for(lambda: bool(w.discord.modals), timeout=10)
        modal = w.discord.modals[-1]
        submit = await w.discord.submit_modal(modal.custom_id, {"prompt": "character1 spins"})
        remixed = await new_job(w, submit)
        assert refreshes(w) == [[old["url"]]]
        [renewed] = remixed.params.image_urls
        assert renewed != old["url"] and not is_expired(renewed, time.time())


async def test_retry_of_a_deleted_upload_names_it_and_costs_nothing(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        job, result = await delivered(w, images=[w.image("ok.png"), expired_image(w, 9002)])
        forget(w.discord, job.params.image_urls[1])  # the image is gone from Discord
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}", user=BOB_ID)
        said = await answer(w, click)
        assert said.content == s.BAD_INPUT["reference_expired"].format(image="image2")
        assert w.reply_of(click) is None
        assert w.creates() == 1 and await w.rows() == (1, 2), "nothing created or charged"


async def test_retry_when_the_refresh_endpoint_refuses(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        job, result = await delivered(w, images=[expired_image(w, 9003)])
        w.discord.fail_next("POST", r"^/attachments/refresh-urls$", 404, 0)
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}")
        said = await answer(w, click)
        assert said.content == s.BAD_INPUT["reference_expired"].format(image="image1")
        assert w.creates() == 1 and await w.rows() == (1, 2)


async def make_video_on(
    w: BotWorld, images: list[dict[str, object]]
) -> tuple[StoredMessage, Job, StoredMessage]:
    message = await w.discord.post_user_message(content="refs", attachments=images)
    await w.discord.invoke_message_command(MENU, message.id)
    await w.discord.wait_for(lambda: bool(w.discord.modals), timeout=10)
    modal = w.discord.modals[-1]
    handle = await w.discord.submit_modal(modal.custom_id, {"prompt": "character1 jumps"})
    result = await w.outcome(handle)
    job = await w.job_of(handle)
    return message, job, result


async def test_retry_of_a_menu_job_takes_fresh_urls_from_the_source_message(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path) as w:
        message, job, result = await make_video_on(w, [expired_image(w, 9004, "menu.png")])
        assert (job.origin, job.source_message_id) == ("menu", message.id)
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}")
        retried = await new_job(w, click)
        [renewed] = retried.params.image_urls
        assert renewed == message.attachments[0].url != job.params.image_urls[0]
        assert refreshes(w) == [], "the source message gave it"
        fetched = w.discord.requests_matching("GET", rf"/messages/{message.id}$")
        assert fetched and retried.source_message_id == message.id


async def test_retry_of_a_menu_job_whose_message_was_deleted(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        message, job, result = await make_video_on(w, [expired_image(w, 9005, "menu.png")])
        await w.discord.user_delete_message(message.channel_id, message.id)
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}")
        said = await answer(w, click)
        label = s.MESSAGE_IMAGE_LABEL.format(number=1, filename="menu.png")
        assert said.content == s.BAD_INPUT["reference_expired"].format(image=label)
        assert w.creates() == 1 and await w.rows() == (1, 2)
