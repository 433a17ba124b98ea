"""/show end to end over the fake Discord, the fake HappyHorse behind the bot.

After the API's link has expired the original comes from the archive (uploaded again, with the
job's buttons); without an archived copy the member is told the video is gone and offered
Retry; while the link lives and nothing was archived, the link is posted. Every refusal is
private and costs nothing; autocomplete offers the member's finished jobs on this server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cogs.show import CHOICE_NAME
from cogs.ui import strings as s
from hh_bot.config import MediaSettings
from hh_bot.jobs.model import Job, JobState
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ADMIN_ID, ALICE_ID, BOB_ID, GUILD_ID, StoredMessage
from tests.fakes.happyhorse import TaskScript
from tests.media_clips import _encode, decode_errors
from tests.waiting import eventually

FACTOR = 50.0
HOLD = 864000.0  # a task that runs until the test ends
FIT_WAIT = 300.0  # real seconds: a safety net for one small encode on a loaded machine


@pytest.fixture(name="clip", scope="module")
def clip_fixture(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real H.264 + AAC clip (640x360, 3 s, ~0.8 MB): small enough to encode quickly."""
    out = tmp_path_factory.getbasetemp() / "show-clip.mp4"
    if not out.exists():
        _encode(out, size="640x360", seconds=3, kbps=2000, audio=True, noise=False)
    return out.read_bytes()


def archiving(tmp: Path) -> MediaSettings:
    return MediaSettings(archive_dir=str(tmp / "archive"), archive_budget_bytes=10**9)


async def done_job(w: BotWorld, prompt: str, **options: Any) -> Job:
    handle = await w.video(prompt, **options)
    await w.outcome(handle)
    job_id = w.job_id_of(handle)

    async def stored_done() -> Job | None:
        job = await w.services.store.get_job(job_id)
        return job if job is not None and job.state is JobState.DONE else None

    return await eventually(stored_done, what=f"job {job_id} stored done")


async def expire_link(w: BotWorld, job: Job) -> Job:
    """The API's link of ``job`` as it reads a day later: its ``Expires`` has passed."""
    assert job.result_url is not None
    past = int(w.clock.now()) - 60
    expired = job.with_changes(
        w.clock.now(), result_url=job.result_url.split("?")[0] + f"?Expires={past}"
    )
    await w.services.store.save(expired)
    return expired


async def show(w: BotWorld, job_id: str, user: int = ALICE_ID) -> FakeInteraction:
    return await w.discord.invoke_slash("show", {"job": job_id}, user=user)


def public_posts(w: BotWorld, handle: FakeInteraction) -> list[StoredMessage]:
    return [m for m in w.discord.followups(handle.token) if not m.ephemeral]


async def posted(w: BotWorld, handle: FakeInteraction) -> StoredMessage:
    return await w.discord.wait_for(lambda: next(iter(public_posts(w, handle)), None), timeout=15)


async def test_an_expired_link_is_shown_again_from_the_archive(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR, media=archiving(tmp_path)) as w:
        job = await expire_link(w, await done_job(w, "keep me"))
        ledger = await w.services.store.ledger(job.id)
        handle = await show(w, job.id)
        assert await w.private_answer(handle) == s.SHOW_POSTED.format(job_id=job.id)
        post = await posted(w, handle)
        assert [a.data for a in post.attachments] == [w.hh.video_bytes]
        assert post.attachments[0].filename == f"hh-{job.id}.mp4"
        assert post.content == s.SHOW_POST_FILE.format(job_id=job.id, user_id=ALICE_ID, by=ALICE_ID)
        assert f"hh:delete:{job.id}" in post.custom_ids()
        assert post.channel_id == job.reply.channel_id
        # Shown, not made again: no create, nothing charged.
        assert w.creates() == 1 and await w.services.store.ledger(job.id) == ledger
        # The member may delete the re-post with its button.
        click = await w.discord.click_button(post.id, f"hh:delete:{job.id}")
        await w.discord.wait_for(lambda: post.deleted)
        assert click.user.id == ALICE_ID


async def test_no_archive_and_an_expired_link_says_so_and_offers_retry(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR) as w:  # the world keeps no archive
        assert w.services.archive is None
        job = await expire_link(w, await done_job(w, "gone"))
        handle = await show(w, job.id)
        said = await w.private_answer(handle)
        assert said.startswith(s.SHOW_EXPIRED.split("{expired}")[0].format(job_id=job.id))
        answer = w.discord.original_message(handle.token)
        assert answer is not None and answer.custom_ids() == [
            f"hh:{action}:{job.id}" for action in ("retry", "remix", "continue", "params", "delete")
        ]
        assert public_posts(w, handle) == [] and w.creates() == 1


async def test_a_live_link_is_posted_when_nothing_was_archived(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR) as w:
        job = await done_job(w, "linked")
        handle = await show(w, job.id, user=ADMIN_ID)  # an admin may show a member's job
        post = await posted(w, handle)
        assert not post.attachments
        assert job.result_url is not None and job.result_url in post.content
        assert post.content.startswith(
            s.SHOW_POST_LINK.split("{url}")[0].format(job_id=job.id, user_id=ALICE_ID, by=ADMIN_ID)
        )


async def test_refusals_are_private_and_cost_nothing(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR, poll_deadline=HOLD) as w:
        job = await done_job(w, "alice's")
        w.hh.scripts.append(TaskScript(duration=HOLD))
        running = await w.video("still running")
        await w.wait_reply(running)
        running_id = w.job_id_of(running)

        async def submitted() -> Job | None:  # its create made: the count below is final
            job = await w.services.store.get_job(running_id)
            return job if job is not None and job.state is JobState.RUNNING else None

        await eventually(submitted, what="the held job running")
        creates = w.creates()

        async def refused(job_id: str, user: int = ALICE_ID) -> str:
            handle = await show(w, job_id, user=user)
            said = await w.private_answer(handle)
            assert public_posts(w, handle) == []
            return said

        assert await refused("0123456789") == s.SHOW_UNKNOWN.format(job_id="0123456789")
        assert await refused("no such *job*") == s.SHOW_UNKNOWN.format(job_id="no such \\*job\\*")
        assert await refused(job.id, user=BOB_ID) == s.SHOW_NOT_YOURS.format(job_id=job.id)
        unfinished = await refused(running_id)
        assert unfinished.startswith(s.SHOW_UNFINISHED.split("(")[0].format(job_id=running_id))

        await w.sql("UPDATE jobs SET guild_id = ? WHERE id = ?", GUILD_ID + 1, job.id)
        assert await refused(job.id) == s.SHOW_OTHER_SERVER.format(job_id=job.id)
        assert w.creates() == creates


async def test_autocomplete_lists_finished_jobs_with_id_age_and_prompt(tmp_path: Path) -> None:
    async with bot_world(tmp_path, factor=FACTOR) as w:
        first = await done_job(w, "a red horse " + "gallops " * 30)
        second = await done_job(w, "a blue boat")
        await done_job(w, "bob's", user=BOB_ID)

        async def choices(typed: str, user: int = ALICE_ID) -> list[dict[str, Any]]:
            payload = w.discord.slash_payload("show", {"job": typed or "x"}, user=user)
            payload = replace_focused(payload, typed)
            handle = await w.discord.invoke_raw(payload)
            await w.discord.wait_for(lambda: handle.callback_type == 8, timeout=10)
            return list(handle.autocomplete_choices or [])

        listed = await choices("")
        assert [c["value"] for c in listed] == [second.id, first.id]  # newest first
        assert all(len(c["name"]) <= CHOICE_NAME for c in listed)
        assert listed[1]["name"].startswith(f"{first.id} · ") and listed[1]["name"].endswith("…")
        assert "a blue boat" in listed[0]["name"]
        assert [c["value"] for c in await choices("BOAT")] == [second.id]
        assert [c["value"] for c in await choices(first.id[:4])] == [first.id]
        assert await choices("nothing like this") == []


def replace_focused(payload: dict[str, Any], typed: str) -> dict[str, Any]:
    """The slash payload as an autocomplete interaction (type 4) typing ``typed`` in ``job``."""
    data = dict(payload["data"])
    data["options"] = [{"name": "job", "type": 3, "value": typed, "focused": True}]
    return {**payload, "type": 4, "data": data}


async def test_an_archived_original_too_large_here_is_fitted_to_the_channel(
    tmp_path: Path, clip: bytes
) -> None:
    async with bot_world(tmp_path, factor=FACTOR, media=archiving(tmp_path)) as w:
        w.hh.video_bytes = clip
        job = await expire_link(w, await done_job(w, "a real clip"))
        limit = len(clip) * 2 // 3  # this channel takes less than the original
        handle = await w.discord.invoke_slash("show", {"job": job.id}, attachment_size_limit=limit)
        post = await w.discord.wait_for(
            lambda: next(iter(public_posts(w, handle)), None), timeout=FIT_WAIT
        )
        [video] = post.attachments
        assert video.filename == f"hh-{job.id}-fitted.mp4"
        assert len(video.data) <= limit and video.data != clip
        fitted = tmp_path / "fitted.mp4"
        fitted.write_bytes(video.data)
        assert decode_errors(fitted) == ""
        assert w.services.fitter is not None and w.services.fitter.ffmpeg.runs >= 3
        left = [p for p in w.services.tmp_dir.rglob("*") if p.is_file()]
        assert left == [], "the fitted copy is removed once posted"
        archived = w.services.archive and await w.services.archive.get(job.id)
        assert archived and archived.path.read_bytes() == clip, "the original stays archived"
