"""SIGKILL the real bot at each step of a job, restart it on the same database, and check that the
job still ends exactly once: one create, one delivery, one ledger settlement, one notification.

The bot runs as a subprocess (``tests/crash_world.py``); the test knows which step a job is at
from the bot's own SQLite file (opened read-only) and from what the fakes received, so every
kill lands where it is meant to.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cogs.ui import strings as s
from tests.crash_world import CrashWorld, JobRow, crash_world
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID
from tests.fakes.happyhorse import TaskScript

pytestmark = pytest.mark.slow  # each test starts the real bot twice as a subprocess


def assert_delivered_once(w: CrashWorld, job: JobRow) -> None:
    assert job.state == "done", job
    assert w.creates_for(job.prompt) == 1, "the create was sent again"
    assert w.ledger(job.id) == ["reserve", "commit"]
    videos = w.video_messages(job.id)
    assert len(videos) == 1, f"video delivered {len(videos)} times:\n{w.output}"
    assert len(videos[0].attachments) == 1
    assert len(w.posts(job)) <= 1, f"outcome posted twice:\n{w.output}"
    assert len(w.mentions(job)) == 1, f"user notified {len(w.mentions(job))} times"
    assert job.result_message_id == videos[0].id
    assert not w.problems(), w.output


async def test_killed_while_running_resumes_polling(tmp_path: Path) -> None:
    async with crash_world(tmp_path, script=TaskScript(duration=400)) as w:
        await w.start()
        await w.video("running prompt")
        running = await w.wait_job("running prompt", lambda j: j.state == "running")
        assert running.task_id is not None
        await w.kill()
        await w.start()
        job = await w.wait_final("running prompt")
        assert_delivered_once(w, job)
        assert job.task_id == running.task_id


async def test_killed_while_queued_starts_after_restart(tmp_path: Path) -> None:
    async with crash_world(tmp_path, GLOBAL_ACTIVE_TASKS="1") as w:
        w.hh.scripts.append(TaskScript(duration=600))  # the first job holds the only slot
        await w.start()
        await w.video("first prompt", user=ALICE_ID)
        await w.wait_job("first prompt", lambda j: j.state == "running")
        await w.video("queued prompt", user=BOB_ID)
        queued = await w.wait_job(
            "queued prompt", lambda j: j.state == "queued" and j.message_id is not None
        )
        reply = w.discord.messages[queued.message_id]
        await w.discord.wait_for(lambda: "Position in queue: **1**" in str(reply.embeds))
        await w.kill()
        assert w.creates_for("queued prompt") == 0
        await w.start()
        first = await w.wait_final("first prompt")
        second = await w.wait_final("queued prompt")
        assert_delivered_once(w, first)
        assert_delivered_once(w, second)
        assert second.id == queued.id
        assert w.hh.max_active <= 1


async def test_killed_while_submitting_fails_once_without_resubmitting(tmp_path: Path) -> None:
    async with crash_world(tmp_path) as w:
        w.hh.create_faults.append("slow")  # the create stalls at the API
        await w.start()
        await w.video("submitting prompt")
        await w.wait_job("submitting prompt", lambda j: j.state == "submitting")
        await w.discord.wait_for(lambda: w.creates_for("submitting prompt") == 1)
        await w.kill()
        await w.start()
        job = await w.wait_final("submitting prompt")
        assert job.state == "failed" and job.error_kind == "UnknownOutcome", job
        assert w.creates_for("submitting prompt") == 1, "a create of unknown outcome was repeated"
        assert w.ledger(job.id) == ["reserve", "release"]
        # The final state is stored before the user is told: wait for the telling.
        told = await w.discord.wait_for(
            lambda: [m for m in w.job_messages(job.id) if s.UNKNOWN in str(m.embeds) + m.content],
            timeout=10,
        )
        assert told, "the user was not told"
        assert len(w.posts(job)) <= 1 and len(w.mentions(job)) <= 1
        assert not w.video_messages(job.id)
        assert not w.problems(), w.output


async def test_killed_while_downloading_fetches_again(tmp_path: Path) -> None:
    async with crash_world(tmp_path) as w:
        w.hh.download_faults.append("slow")  # one chunk, then a long stall
        w.hh.trickle_interval = 3600.0
        await w.start()
        await w.video("download prompt")
        await w.wait_job("download prompt", lambda j: j.state == "downloading")
        await w.discord.wait_for(lambda: len(w.hh.downloads()) == 1)
        await w.kill()
        await w.start()
        job = await w.wait_final("download prompt")
        assert_delivered_once(w, job)
        assert len(w.hh.downloads()) == 2


# Where the delivery was when the bot died: the upload (a bot-token post in the channel, or the
# interaction-token edit of the reply) reached Discord, which either did it ("applied": the
# client died before reading the answer) or never got it ("dropped").
# The bot stops using an interaction token 14 clock minutes after the command (cogs/delivery.py):
# 4.2 s of real time at the crash world's x200, which a loaded machine can spend between the
# command and the upload, and the video then goes by the channel instead of the held reply.
# At x40 that is 21 s: the reply is the route however busy the machine is.
REPLY_FACTOR = 40.0

UPLOAD_ROUTES = {
    "channel": ("POST", r"^/channels/\d+/messages$"),
    "reply": ("PATCH", r"^/webhooks/\d+/[^/]+/messages/\d+$"),
}


@pytest.mark.parametrize(
    ("route", "applied", "token_expired_at_restart"),
    [
        ("channel", True, False),
        ("channel", False, False),
        ("reply", True, False),
        ("reply", True, True),
    ],
)
async def test_killed_while_delivering_delivers_exactly_once(
    tmp_path: Path, route: str, applied: bool, token_expired_at_restart: bool
) -> None:
    async with crash_world(tmp_path, factor=REPLY_FACTOR) as w:
        method, path = UPLOAD_ROUTES[route]
        hold = w.discord.hold_next(method, path, with_files=True)
        await w.start()
        handle = await w.video("delivery prompt")
        if route == "channel":  # the bot must fall back to its own token
            await w.wait_job("delivery prompt", lambda j: j.message_id is not None)
            w.discord.expire_token(handle.token)
        await asyncio.wait_for(hold.arrived.wait(), 60)
        assert (await w.wait_job("delivery prompt", lambda j: True)).state == "delivering"
        await w.kill()
        hold.release(apply=applied)
        await w.discord.wait_for(lambda: hold.request is not None and hold.request.status != 0)
        if token_expired_at_restart:
            w.clock.advance(15 * 60)
        await w.start()
        job = await w.wait_final("delivery prompt")
        assert_delivered_once(w, job)
        assert w.uploads(job.id) == 1, "the video was uploaded again"


async def test_killed_while_telling_a_failure_tells_the_same_reason(tmp_path: Path) -> None:
    async with crash_world(tmp_path, factor=REPLY_FACTOR) as w:
        w.hh.create_faults.append("moderation")
        hold = w.discord.hold_next(
            "PATCH",
            r"^/webhooks/\d+/[^/]+/messages/\d+$",
            when=lambda rec: s.MODERATION in str((rec.json or {}).get("embeds")),
        )
        await w.start()
        await w.video("blocked prompt")
        await asyncio.wait_for(hold.arrived.wait(), 60)
        # Stored as ended, with the notice still owed, before the user is told.
        assert (await w.wait_job("blocked prompt", lambda j: True)).state == "failed"
        assert w.query("SELECT COUNT(*) FROM notices") == [(1,)]
        await w.kill()
        hold.release(apply=True)  # Discord showed it, but the bot never learnt that it did
        await w.discord.wait_for(lambda: hold.request is not None and hold.request.status != 0)
        await w.start()
        job = await w.wait_final("blocked prompt")
        assert job.error_kind == "ModerationBlocked", job
        await w.discord.wait_for(lambda: w.query("SELECT COUNT(*) FROM notices")[0][0] == 0)
        reply = w.discord.messages[job.message_id]
        assert s.MODERATION in str(reply.embeds) and s.UNKNOWN not in str(reply.embeds)
        assert w.creates_for("blocked prompt") == 1
        assert w.ledger(job.id) == ["reserve", "release"]
        assert not w.posts(job), "told twice"
        assert not w.problems(), w.output


async def test_restart_after_the_deadline_still_delivers_a_finished_video(tmp_path: Path) -> None:
    async with crash_world(tmp_path, script=TaskScript(duration=300)) as w:
        await w.start()
        await w.video("outage prompt")
        await w.wait_job("outage prompt", lambda j: j.state == "running")
        await w.kill()
        w.clock.advance(3600)  # down for an hour: past the 20-minute poll deadline
        await w.start()
        job = await w.wait_final("outage prompt")
        assert_delivered_once(w, job)
        assert len(w.posts(job)) == 1  # the token had expired: posted with the bot's token
