"""Delivery end to end: what reaches the user when the video is large, the job fails, the
interaction token runs out, the channel or the DM refuses, or the user deletes the reply."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cogs.ui import strings as s
from hh_bot.errors import ModerationBlocked
from hh_bot.jobs.delivery import ProgressView, ResultMessage, VideoResult
from hh_bot.jobs.model import Job, JobState
from tests.bot_world import BotWorld, bot_world, is_final
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import MIB, TEXT_CHANNEL_ID, StoredMessage
from tests.fakes.discord_rest import RecordedRequest
from tests.fakes.happyhorse import TaskScript
from tests.waiting import eventually

VIDEO = bytes(range(256)) * 1200  # 300 KB
FACTOR = 400.0
LONG = TaskScript(duration=1000)  # outlives the 15-minute interaction token


async def running(w: BotWorld, handle: FakeInteraction) -> None:
    await w.wait_reply(handle)

    async def is_running() -> bool:
        return (await w.job_of(handle)).state is JobState.RUNNING

    await eventually(is_running, what="the job to run")


async def outlive_the_token(w: BotWorld, handle: FakeInteraction) -> None:
    """Jump the bot's clock to just inside its safety margin, then let the fake refuse the token
    once the bot has shown it moved on: its first bot-token call about the job's reply.

    Event-based on purpose: at a 400× clock, 100 ms of scheduler delay is 40 s of simulated
    time, so a token edit decided just before the jump could arrive after an expiry "on time"
    on a loaded machine. After the bot's switch, no call may use the token again."""
    await running(w, handle)
    job = await w.job_of(handle)
    seen = len(w.discord.requests)
    w.clock.advance(job.reply.token_expires_at - 50 - w.clock.now())

    def switched() -> bool:
        return any(
            r.path.startswith(f"/channels/{job.reply.channel_id}/messages")
            and r.headers.get("Authorization", "").startswith("Bot ")
            and r.method in ("PATCH", "POST")
            for r in w.discord.requests[seen:]
        )

    await w.discord.wait_for(switched, timeout=30.0)
    w.discord.expire_token(handle.token)


def token_refusals(w: BotWorld, handle: FakeInteraction) -> list[RecordedRequest]:
    return [r for r in w.discord.requests if handle.token in r.path and r.code == 50027]


def posts_to(w: BotWorld, channel_id: int) -> list[RecordedRequest]:
    return w.discord.requests_matching("POST", rf"^/channels/{channel_id}/messages$")


def link_expiry(w: BotWorld, message: StoredMessage) -> tuple[str, int]:
    match = re.search(r"(http://\S+?)\s.*<t:(\d+):R>", message.content)
    assert match, message.content
    return match.group(1), int(match.group(2))


async def test_video_larger_than_the_interaction_limit_comes_as_a_link(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=30)) as w:
        w.hh.video_bytes = VIDEO
        handle = await w.video(attachment_size_limit=100_000)
        result = await w.outcome(handle)
        assert result is w.reply_of(handle) and not result.attachments
        url, expires = link_expiry(w, result)
        assert url.startswith(w.hh.base_url + "/files/")
        signed = int(parse_qs(urlsplit(url).query)["Expires"][0])
        # 24 h after completion as the bot saw it: the link's real expiry, give or take a poll.
        assert 0 <= expires - signed < 120
        assert "0.3 MB" in result.content and f"<@{handle.user.id}>" in result.content
        assert not [r for r in w.discord.requests if r.files], "nothing uploaded"


async def test_guild_limit_stricter_than_known_gets_413_then_the_link(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=LONG, factor=FACTOR) as w:
        w.hh.video_bytes = VIDEO
        w.discord.guild.max_upload_bytes = 100_000  # the bot believes 10 MiB
        handle = await w.video()
        await outlive_the_token(w, handle)
        result = await w.outcome(handle)
        assert result is not w.reply_of(handle) and not result.attachments
        link_expiry(w, result)
        refused = [r for r in posts_to(w, TEXT_CHANNEL_ID) if r.code == 40005]
        assert len(refused) == 1 and refused[0].files[0].data == VIDEO


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("DataInspectionFailed", "Output data may contain inappropriate content.", s.MODERATION),
        ("InvalidImageUrl", "cannot download image", s.TASK_FAILED["InvalidImageUrl"]),
        ("InternalError", "boom", s.TASK_FAILED_OTHER.split("(", 1)[0]),
    ],
)
async def test_task_failure_shows_the_specific_message(
    tmp_path: Path, code: str, message: str, expected: str
) -> None:
    script = TaskScript(duration=20, outcome="failed", fail_code=code, fail_message=message)
    async with bot_world(tmp_path, script=script) as w:
        handle = await w.video()
        result = await w.outcome(handle)
        assert result is w.reply_of(handle) and is_final(result)
        description = result.embeds[0]["description"]
        assert s.STATE_LABEL[JobState.FAILED] in description and expected in description
        assert not result.attachments and not result.custom_ids()

        async def settled() -> list[str] | None:
            kinds = [e.kind for e in await w.services.store.ledger()]
            return kinds if len(kinds) == 2 else None

        assert await eventually(settled) == ["reserve", "release"]


async def test_moderation_at_create_shows_the_moderation_message(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        w.hh.create_faults.append("moderation")
        handle = await w.video()
        result = await w.outcome(handle)
        assert s.MODERATION in result.embeds[0]["description"]
        assert s.STATE_LABEL[JobState.FAILED] in result.embeds[0]["description"]


@pytest.mark.two_bots
async def test_token_expiring_mid_job_delivers_by_channel_message(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=LONG, factor=FACTOR) as w:
        handle = await w.video()
        await outlive_the_token(w, handle)
        result = await w.outcome(handle)
        reply = w.reply_of(handle)
        assert reply is not None and result is not reply
        assert result.reference_id == reply.id and result.channel_id == TEXT_CHANNEL_ID
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert result.content == s.READY.format(user_id=handle.user.id)
        [post] = [r for r in posts_to(w, TEXT_CHANNEL_ID) if r.ok]
        mentions = post.json["allowed_mentions"]
        assert mentions["users"] == [handle.user.id] and mentions["parse"] == []
        assert "roles" not in mentions
        assert post.headers["Authorization"].startswith("Bot ")
        # The old progress reply shows the end too, edited with the bot token.
        await w.discord.wait_for(lambda: is_final(reply))
        assert not token_refusals(w, handle), "the token was used after its safety margin"


async def test_token_refused_early_falls_back_to_the_bot_token(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=60)) as w:
        handle = await w.video()
        reply = await w.wait_reply(handle)
        w.discord.expire_token(handle.token)  # Discord says 50027 while we think it lives
        result = await w.outcome(handle)
        assert result is not reply and result.reference_id == reply.id
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert len(token_refusals(w, handle)) == 1, "a token called gone was used again"
        bot_edits = [e for e in w.discord.edits_of(reply.id) if e.path.startswith("/channels/")]
        assert bot_edits, "progress moved on to bot-token edits"


async def test_channel_refusing_after_expiry_sends_a_dm(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=LONG, factor=FACTOR) as w:
        w.discord.deny_channel_send(TEXT_CHANNEL_ID)
        handle = await w.video()
        await outlive_the_token(w, handle)
        result = await w.outcome(handle)
        assert result in w.discord.dm_messages(handle.user)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert f"<@{handle.user.id}>" in result.content
        assert [r.code for r in posts_to(w, TEXT_CHANNEL_ID)] == [50013]
        reply = w.reply_of(handle)
        assert reply is not None
        await w.discord.wait_for(lambda: is_final(reply))


async def test_channel_and_dm_refusing_still_ends_visibly(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=LONG, factor=FACTOR) as w:
        w.discord.deny_channel_send(TEXT_CHANNEL_ID)
        w.discord.deny_dm(w.discord.user("alice"))
        handle = await w.video()
        await outlive_the_token(w, handle)
        reply = w.reply_of(handle)
        assert reply is not None
        await w.discord.wait_for(lambda: is_final(reply), timeout=15)
        assert s.STATE_LABEL[JobState.DONE] in reply.embeds[0]["description"]
        url, _ = link_expiry(w, reply)
        assert url.startswith(w.hh.base_url)
        assert f"<@{handle.user.id}>" in reply.content


async def test_deleted_reply_still_gets_the_result(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=60)) as w:
        handle = await w.video()
        reply = await w.wait_reply(handle)
        await w.discord.user_delete_message(TEXT_CHANNEL_ID, reply.id)
        result = await w.outcome(handle)
        assert result is not reply and not result.deleted
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert result.content == s.READY.format(user_id=handle.user.id)
        assert [m.id for m in w.public_messages() if m.attachments] == [result.id]


async def test_deleted_reply_after_expiry_still_gets_the_result(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=LONG, factor=FACTOR) as w:
        handle = await w.video()
        await outlive_the_token(w, handle)
        reply = w.reply_of(handle)
        assert reply is not None
        await w.discord.user_delete_message(TEXT_CHANNEL_ID, reply.id)
        result = await w.outcome(handle)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert len([m for m in w.public_messages() if m.attachments]) == 1


async def test_result_arrives_even_when_the_progress_reply_was_refused(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=30)) as w:
        w.discord.fail_next("POST", r"^/webhooks/\d+/[^/]+$", 400, 50035, "Invalid Form Body")
        handle = await w.video()
        assert "accepted" in await w.private_answer(handle)

        def posted() -> StoredMessage | None:
            return next((m for m in w.public_messages() if m.attachments), None)

        result = await w.discord.wait_for(posted, timeout=15)
        assert result.content == s.READY.format(user_id=handle.user.id)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert w.reply_of(handle) is None and w.creates() == 1


async def test_telling_again_after_expiry_reuses_the_reply_that_has_the_video(
    tmp_path: Path,
) -> None:
    """What a restart does to a job whose token edit landed just before the crash: progress is
    redrawn over the reply, then the video is delivered again, now with the bot token."""
    async with bot_world(tmp_path, script=TaskScript(duration=20)) as w:
        handle = await w.video()
        reply = await w.outcome(handle)
        job = await w.job_of(handle)
        w.clock.advance(3600)  # the token is long gone
        redrawn = job.with_changes(w.clock.now(), state=JobState.DELIVERING)
        await w.bot.delivery.show_progress(redrawn, ProgressView(JobState.DELIVERING, 100))
        assert not is_final(reply) and reply.attachments
        video = tmp_path / "again.mp4"
        video.write_bytes(w.hh.video_bytes)
        result = VideoResult("https://example.invalid/v.mp4", w.clock.now(), video, len(VIDEO))
        placed = await w.bot.delivery.deliver(redrawn, result)
        assert placed == ResultMessage(reply.id, TEXT_CHANNEL_ID)
        assert not [r for r in posts_to(w, TEXT_CHANNEL_ID)], "told twice"
        assert is_final(reply) and reply.content == s.READY.format(user_id=handle.user.id)
        assert [a.data for a in reply.attachments] == [w.hh.video_bytes]


async def test_telling_a_failure_again_after_expiry_posts_nothing_new(tmp_path: Path) -> None:
    script = TaskScript(duration=20, outcome="failed", fail_code="DataInspectionFailed")
    async with bot_world(tmp_path, script=script) as w:
        handle = await w.video()
        reply = await w.outcome(handle)
        job = await eventually(lambda: _final_job(w, handle))
        w.clock.advance(3600)
        await w.bot.delivery.fail(job, ModerationBlocked("blocked", code="DataInspectionFailed"))
        assert not posts_to(w, TEXT_CHANNEL_ID) and s.MODERATION in reply.embeds[0]["description"]


async def _final_job(w: BotWorld, handle: FakeInteraction) -> Job | None:
    job = await w.job_of(handle)
    return job if job.state.final else None


async def test_delivering_again_while_the_token_lives_uploads_nothing_new(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=20)) as w:
        handle = await w.video()
        reply = await w.outcome(handle)
        job = await w.job_of(handle)
        uploads = len([r for r in w.discord.requests if r.files])
        video = tmp_path / "again.mp4"
        video.write_bytes(w.hh.video_bytes)
        result = VideoResult("https://example.invalid/v.mp4", w.clock.now(), video, len(VIDEO))
        assert await w.bot.delivery.deliver(job, result) == ResultMessage(reply.id, TEXT_CHANNEL_ID)
        assert len([r for r in w.discord.requests if r.files]) == uploads
        assert not posts_to(w, TEXT_CHANNEL_ID)


async def test_a_file_that_would_push_the_request_past_25_mib_comes_as_a_link(
    tmp_path: Path,
) -> None:
    """The file fits the upload limit, but with the payload beside it the request would pass
    Discord's 25 MiB request cap: the link is sent without trying the upload."""
    async with bot_world(tmp_path, script=TaskScript(duration=30)) as w:
        w.hh.video_bytes = bytes(25 * MIB - 1024)
        handle = await w.video(attachment_size_limit=25 * MIB)
        result = await w.outcome(handle)
        assert result is w.reply_of(handle) and not result.attachments
        link_expiry(w, result)
        assert not [r for r in w.discord.requests if r.files], "an upload Discord must refuse"


async def test_an_hour_old_reply_is_posted_to_not_edited_again(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=120)) as w:
        handle = await w.video()
        reply = await w.wait_reply(handle)
        w.discord.expire_token(handle.token)
        w.discord.now = lambda: time.time() + 2 * 3600  # the reply is two hours old
        result = await w.outcome(handle)
        assert result is not reply and result.reference_id == reply.id
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        refused = [r for r in w.discord.requests if r.code == 30046]
        assert len(refused) <= 1, "edits of an hour-old reply kept being tried"


async def test_a_notice_is_found_again_behind_many_newer_messages(tmp_path: Path) -> None:
    """A repeat after a restart finds the notice posted for the job even when the channel
    moved on by far more than a screenful since: it reads everything after the reply."""
    async with bot_world(tmp_path, script=TaskScript(duration=20)) as w:
        handle = await w.video()
        reply = await w.wait_reply(handle)
        w.discord.expire_token(handle.token)
        posted = await w.outcome(handle)
        assert posted is not reply
        for n in range(60):
            await w.discord.post_user_message(TEXT_CHANNEL_ID, f"chatter {n}")
        job = await eventually(lambda: _final_job(w, handle))
        video = tmp_path / "again.mp4"
        video.write_bytes(w.hh.video_bytes)
        result = VideoResult("https://example.invalid/v.mp4", w.clock.now(), video, len(VIDEO))
        before = len(posts_to(w, TEXT_CHANNEL_ID))
        assert (await w.bot.delivery.deliver(job, result)) == ResultMessage(
            posted.id, posted.channel_id
        )
        assert len(posts_to(w, TEXT_CHANNEL_ID)) == before, "told twice"


async def test_the_bots_discord_session_has_its_own_timeout(tmp_path: Path) -> None:
    """discord.py's session waits up to 300 s; the bot's bounds connecting and the wait for
    an answer, and leaves a long upload alone (no total)."""
    async with bot_world(tmp_path, discord_timeout=7.0) as w:
        session = getattr(w.bot.http, "_HTTPClient__session")  # noqa: B009 - name-mangled
        assert (session.timeout.total, session.timeout.sock_connect) == (None, 7.0)
        assert session.timeout.sock_read == 7.0


async def test_a_token_found_dead_while_reading_is_not_used_to_upload(tmp_path: Path) -> None:
    """A repeat after a restart reads the reply through the token first; Discord says 50027
    there, so the upload goes by the bot token without trying the dead one again."""
    async with bot_world(tmp_path, script=TaskScript(duration=20)) as w:
        handle = await w.video()
        reply = await w.outcome(handle)
        job = await w.job_of(handle)
        w.discord.expire_token(handle.token)
        video = tmp_path / "again.mp4"
        video.write_bytes(w.hh.video_bytes)
        result = VideoResult("https://example.invalid/v.mp4", w.clock.now(), video, len(VIDEO))
        assert await w.bot.delivery.deliver(job, result) == ResultMessage(reply.id, TEXT_CHANNEL_ID)
        assert len(token_refusals(w, handle)) == 1
        assert not posts_to(w, TEXT_CHANNEL_ID), "told twice"


class _EndOutageOnRetry(logging.Handler):
    """Ends the outage the moment the bot says it will try the delivery again."""

    def __init__(self, outage: list[bool]) -> None:
        super().__init__(logging.INFO)
        self.outage = outage
        self.failures = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "delivery failed" in record.getMessage():
            self.failures += 1
            self.outage[0] = False


async def test_an_outage_at_delivery_is_waited_out_and_the_video_arrives_once(
    tmp_path: Path,
) -> None:
    """Discord unreachable on every route when the video is ready: the delivery fails as a
    whole, is tried again a little later, and the paid video still arrives, exactly once."""
    outage = [True]
    watcher = _EndOutageOnRetry(outage)
    logger = logging.getLogger("hh_bot.jobs.handover")
    logger.addHandler(watcher)
    logger.setLevel(logging.INFO)
    try:
        async with bot_world(tmp_path, script=TaskScript(duration=60), factor=FACTOR) as w:
            w.hh.video_bytes = VIDEO
            handle = await w.video()
            await running(w, handle)
            for kind in ("webhook_edit", "channel_post", "channel_edit", "dm", "history"):
                w.discord.net_fault(kind, "drop", times=10_000, when=lambda _rec: outage[0])
            result = await w.outcome(handle)

            async def done() -> Job | None:
                job = await w.job_of(handle)
                return job if job.state.final else None

            job = await eventually(done, what="the job to be stored final")
            assert watcher.failures == 1
            assert job.state is JobState.DONE
            assert [a.size for a in result.attachments] == [len(VIDEO)]
            assert [m for m in w.public_messages() if m.attachments] == [result], "shown once"
            kinds = [e.kind for e in await w.services.store.ledger(job.id)]
            assert kinds == ["reserve", "commit"]
    finally:
        logger.removeHandler(watcher)
        logger.setLevel(logging.NOTSET)
