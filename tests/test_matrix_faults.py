"""The fault matrix: everything outside the bot that can fail, one row each, end to end.

Each row runs one /video through the real bot, the fake Discord and the fake HappyHorse server
(a few rows that need a process restart run the core alone, on ``core_world``), injects its
fault, and compares what happened with the row's expectation: the job's final state, where the
user saw the outcome and what it said, the ledger entries, and the number of create requests
that reached the API. ``docs/reliability.md`` is generated from ``ROWS``.

The crash of the real process (SIGKILL at every step, then a restart) is covered by
``tests/test_crash_recovery.py``; the restart rows here stop and restart the runner in process.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sqlite3
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from aiohttp import web

from cogs.http_timeout import set_discord_timeout
from cogs.ui import strings as s
from hh_bot.config import MediaSettings
from hh_bot.errors import HHError
from hh_bot.jobs.model import Job, JobState
from hh_bot.jobs.runner import RunnerConfig
from hh_bot.media import archive as media_archive
from tests import audit_rows as audit, scale_faults
from tests.bot_world import BotWorld, bot_world, is_final
from tests.core_world import core_world
from tests.fakes import happyhorse_shapes as shapes
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, MIB, TEXT_CHANNEL_ID, StoredMessage
from tests.fakes.discord_rest import RecordedRequest
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.matrix import Gate, OpenOnLog, WriteLock, bot_messages, ping_problems, visible_text
from tests.media_clips import (  # noqa: F401 - a fixture
    Clips,
    clips_fixture,
    decode_errors,
    media_settings_for_tests,
    stall_encodes,
)
from tests.waiting import eventually

FAST = TaskScript(duration=30.0)
FILE = "the video, attached"
LINK = "a link to the video"
FITTED = "a smaller copy that plays, and the link"
UNSHRUNK = "the link: 'too large to upload here and could not be shrunk'"
UNSHRUNK_POSTER = UNSHRUNK + ", with a poster"
NOT_EXIST = "(interaction failed)"  # what Discord itself shows when the bot never answered
WEBHOOK_EDIT = r"^/webhooks/\d+/[^/]+/messages/\d+$"
FOLLOWUP = r"^/webhooks/\d+/[^/]+$"


class MatrixHappyHorse(FakeHappyHorse):
    """The fake with two more create answers: 400 InvalidParameter and a 500 parse error."""

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if self.create_faults and self.create_faults[0] in ("invalid", "parse"):
            fault = self.create_faults.popleft()
            if fault == "invalid":
                body = shapes.dashscope_error("InvalidParameter", "The image is too small.")
                return self._json(400, body)
            body = shapes.dashscope_error("InternalError", "parse error: duration: not an int")
            return self._json(500, body)
        return await super()._create(request)


@dataclass(frozen=True)
class Outcome:
    """What a row observed (and, as ``Row.expect``, what it must observe)."""

    state: str  # the job's final state; "none" when no job was admitted
    where: str  # reply | channel | dm | private | nowhere | runner (core rows)
    message: str  # a text the user saw (FILE / LINK for a delivered video)
    ledger: tuple[str, ...]
    creates: int  # create requests that reached the API
    billed: bool = False  # the shared key was possibly billed (``Store.billed``)


def done(where: str = "reply", message: str = FILE, creates: int = 1) -> Outcome:
    return Outcome("done", where, message, ("reserve", "commit"), creates, billed=True)


def failed(
    message: str,
    creates: int = 1,
    state: str = "failed",
    where: str = "reply",
    *,
    billed: bool = False,
) -> Outcome:
    """The user is charged nothing; ``billed``: the key may have paid for the task all the same."""
    return Outcome(state, where, message, ("reserve", "release"), creates, billed=billed)


def refused(message: str, where: str = "private") -> Outcome:
    return Outcome("none", where, message, (), 0)


@dataclass
class FaultWorld:
    w: BotWorld
    gate: Gate | None
    lock: WriteLock
    handle: FakeInteraction | None = None
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    clips: Clips | None = None  # real H.264 clips, for the media rows

    async def job(self) -> Job:
        async def one() -> Job | None:
            jobs = await self.w.services.store.jobs_in_states(list(JobState))
            return jobs[0] if jobs else None

        return await eventually(one, what="a stored job")

    async def in_state(self, state: JobState) -> Job:
        async def probe() -> Job | None:
            job = await self.job()
            return job if job.state is state else None

        return await eventually(probe, what=f"the job to be {state}")

    async def completion_seen(self, margin: float) -> None:
        """Wait until a poll reached the API after the task finished (so the bot learnt it is
        done and must record that), then ``margin`` more clock seconds."""
        task = (await eventually(lambda: list(self.w.hh.tasks.values()), what="a task"))[0]

        def completing_poll() -> float | None:
            seen = [p.at for p in self.w.hh.polls() if p.at >= task.finishes_at]
            return seen[0] if seen else None

        at = await eventually(completing_poll, what="a poll after the task's end")
        await eventually(lambda: self.w.clock.now() > at + margin, what="the margin")

    async def busy_timeout(self, milliseconds: int) -> None:
        """Shorten the store's SQLite busy_timeout (5 s in production) so a lock that outlasts
        it takes a fraction of a second in a test."""
        await self.w.services.store.set_busy_timeout(milliseconds / 1000)


Hook = Callable[[FaultWorld], Awaitable[None]]
CoreRun = Callable[[Path], Awaitable[Outcome]]


@dataclass(frozen=True)
class Row:
    id: str
    group: str
    fault: str  # what goes wrong, as the document says it
    expect: Outcome
    arrange: Hook | None = None  # before the /video
    during: Hook | None = None  # right after it was sent
    script: TaskScript = field(default_factory=lambda: FAST)
    settings: Mapping[str, Any] = field(default_factory=dict)
    video: Mapping[str, Any] = field(default_factory=dict)
    allow: tuple[type[BaseException], ...] = ()
    gated: bool = False  # the API sits behind a Gate that refuses connections until opened
    core: CoreRun | None = None  # run on the core alone instead (restart rows)
    marks: tuple[pytest.MarkDecorator, ...] = ()


# --- hooks ----------------------------------------------------------------------------------
def create_faults(*faults: str) -> Hook:
    async def arrange(fw: FaultWorld) -> None:
        fw.w.hh.create_faults.extend(faults)

    return arrange


def poll_faults(*faults: str) -> Hook:
    async def arrange(fw: FaultWorld) -> None:
        fw.w.hh.poll_faults.extend(faults)

    return arrange


def download_faults(*faults: str) -> Hook:
    async def arrange(fw: FaultWorld) -> None:
        fw.w.hh.download_faults.extend(faults)

    return arrange


def timeouts(hook: Hook, **seconds: float) -> Hook:
    """Also shorten the client's aiohttp timeouts (real seconds: the clock does not scale them)."""

    async def arrange(fw: FaultWorld) -> None:
        fw.w.services.api.set_timeouts(**seconds)
        await hook(fw)

    return arrange


def discord_fault(method: str, path: str, status: int, code: int, times: int = 1) -> Hook:
    async def arrange(fw: FaultWorld) -> None:
        fw.w.discord.fail_next(method, path, status, code, times=times)

    return arrange


async def rate_limit_edits(fw: FaultWorld) -> None:
    fw.w.discord.rate_limit_next("PATCH", WEBHOOK_EDIT, times=3)


async def open_gate_after_first_attempt(fw: FaultWorld) -> None:
    assert fw.gate is not None
    logger = logging.getLogger("hh_bot.api.client")
    handler = OpenOnLog("create attempt 1 failed", fw.gate.open)
    logger.addHandler(handler)
    fw.cleanups.append(lambda: logger.removeHandler(handler))


async def metadata_link(fw: FaultWorld) -> None:
    """A bad gateway answer: the finished task's result link is the cloud metadata address."""
    fw.w.hh.bad_result_url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


async def expire_task(fw: FaultWorld) -> None:
    job = await fw.in_state(JobState.RUNNING)
    assert job.task_id is not None
    fw.w.hh.expire(job.task_id)


async def token_gone(fw: FaultWorld) -> None:
    assert fw.handle is not None
    await fw.w.wait_reply(fw.handle)
    fw.w.discord.expire_token(fw.handle.token)


async def token_and_channel_gone(fw: FaultWorld) -> None:
    await token_gone(fw)
    fw.w.discord.deny_channel_send(TEXT_CHANNEL_ID)


async def every_route_gone(fw: FaultWorld) -> None:
    await token_and_channel_gone(fw)
    fw.w.discord.deny_dm(ALICE_ID)


async def reply_deleted(fw: FaultWorld) -> None:
    assert fw.handle is not None
    reply = await fw.w.wait_reply(fw.handle)
    await fw.in_state(JobState.RUNNING)
    await fw.w.discord.user_delete_message(TEXT_CHANNEL_ID, reply.id)


async def nitro_lapsed(fw: FaultWorld) -> None:
    """The user's upload allowance (Nitro) shrinks after the bot read it: Discord refuses the
    upload the bot believed would fit with 413/40005."""
    assert fw.handle is not None
    await fw.w.wait_reply(fw.handle)
    fw.w.discord.interaction(fw.handle.token).attachment_size_limit = 10 * MIB


async def defer_refused(fw: FaultWorld) -> None:
    """Discord says the interaction is unknown (answered too late): wait for both answers."""
    fake = fw.w.discord
    await fake.wait_for(
        lambda: len([r for r in fake.requests if r.path.endswith("/callback")]) >= 2
    )


async def lock_before(fw: FaultWorld) -> None:
    await fw.busy_timeout(100)
    await fw.lock.acquire()


async def brief_lock_at_task_end(fw: FaultWorld) -> None:
    """Another connection holds the write lock across the moment the job must record that the
    task finished, for less than the store's busy_timeout."""
    await fw.in_state(JobState.RUNNING)
    await fw.lock.acquire()
    await fw.completion_seen(margin=10.0)  # 50 ms: well inside the 5 s busy_timeout
    await fw.lock.release()


async def long_lock_at_task_end(fw: FaultWorld) -> None:
    """The same, but the lock outlasts the busy_timeout (shortened to 100 ms): the job's write
    fails with "database is locked" before the lock is released."""
    await fw.in_state(JobState.RUNNING)
    await fw.busy_timeout(100)
    await fw.lock.acquire()
    await fw.completion_seen(margin=60.0)  # 300 ms: three times the busy_timeout
    await fw.lock.release()


# --- media (real clips; hh_bot.media) -------------------------------------------------------
def api_sends(pick: Callable[[Clips], bytes]) -> Hook:
    """The API's video is made of a real clip (``pick`` may cut it)."""

    async def arrange(fw: FaultWorld) -> None:
        assert fw.clips is not None
        fw.w.hh.video_bytes = pick(fw.clips)

    return arrange


def big_clip(clips: Clips) -> bytes:
    return clips.big.read_bytes()  # 12 MB: over the 10 MiB route, so it is fitted


def big_clip_cut(clips: Clips) -> bytes:
    data = clips.big.read_bytes()
    return data[: len(data) * 95 // 100]  # still over 10 MiB; the last packets are missing


def small_clip(clips: Clips) -> bytes:
    return clips.small.read_bytes()


def silent_clip(clips: Clips) -> bytes:
    return clips.silent.read_bytes()  # 390 KB, no audio track


def absurd_header_clip(clips: Clips) -> bytes:
    return clips.absurd.read_bytes()  # 830 KB; moov/mvhd claims years, the packets span 3 s


def overlong_clip(clips: Clips) -> bytes:
    return clips.overlong.read_bytes()  # two frames 700 s apart: longer than any result


def not_a_video(clips: Clips) -> bytes:
    return clips.garbage.read_bytes() * 32  # 512 KB of bytes that are no MP4 at all


async def ffmpeg_killed_on_encode(fw: FaultWorld) -> None:
    """ffmpeg is killed (SIGKILL) as soon as it starts an encode; probes run for real."""
    fitter = fw.w.services.fitter
    assert fitter is not None
    wrapper = fw.w.tmp / "ffmpeg-killed"
    kill_on_encode = 'case "$*" in *" -pass "*) kill -KILL $$ ;; esac'
    wrapper.write_text(f'#!/bin/sh\n{kill_on_encode}\nexec {fitter.ffmpeg.exe} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    fitter.ffmpeg.exe = str(wrapper)
    await api_sends(big_clip)(fw)


async def disk_full_when_archiving(fw: FaultWorld) -> None:
    """The archive's copy meets ENOSPC half-way (the seam ``archive._copy``)."""
    saved = media_archive._copy

    def full(src: Path, dst_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    media_archive._copy = full
    fw.cleanups.append(lambda: setattr(media_archive, "_copy", saved))
    await api_sends(small_clip)(fw)


SILENT_ROUTE = 256 * 1024 + 100_000
"""A route whose limit leaves 100 kB for the video: the silent 3 s clip (390 kB) is fitted."""
SHRINK_ROUTE = 256 * 1024 + 200_000
"""200 kB for the video: the 3 s clip with audio (830 kB) is fitted, AAC and all."""
FIT_CLOCK: Mapping[str, Any] = {"factor": 5.0}
"""A slow clock for rows whose fit goes through the reply: seconds of encoding (more on a busy
machine) must stay far inside the interaction token's 15 minutes (here 3 real minutes)."""
SHORT_TASK = TaskScript(duration=10)
MEDIA_WAIT = 300.0
"""Real seconds a media row may take to end (a safety net: one small fit takes about a second)."""


def media_settings(tmp: Path, **changes: Any) -> MediaSettings:
    return media_settings_for_tests(tmp, **changes)


async def ffmpeg_stalls_on_encode(fw: FaultWorld) -> None:
    """Every encode stops (SIGSTOP) as it starts: only TRANSCODE_TIMEOUT ends it."""
    fitter = fw.w.services.fitter
    assert fitter is not None
    fitter.ffmpeg.on_start = stall_encodes()
    await api_sends(big_clip)(fw)


# --- the network to Discord (tests/fakes/discord_network.py) ---------------------------------
STALL_TIMEOUT = 2.0  # real seconds: the bot's Discord timeout in rows that stall a request
# A slower clock for those rows: the stall (and any delay a loaded machine adds) must stay far
# inside the interaction token's 15 minutes, or the row would test the token's expiry instead.
SLOW_CLOCK: Mapping[str, Any] = {"factor": 50.0}


def _running_edit(rec: RecordedRequest) -> bool:
    """The progress edit right after submit (the reply turns to "generating")."""
    body = rec.json if isinstance(rec.json, dict) else {}
    return any(
        s.STATE_LABEL[JobState.RUNNING] in str(e.get("description") or "")
        for e in body.get("embeds") or []
    )


def _upload(rec: RecordedRequest) -> bool:
    return bool(rec.files)


def _dm_post(rec: RecordedRequest) -> bool:
    return rec.path.startswith("/channels/")


def _dm_open(rec: RecordedRequest) -> bool:
    return rec.path == "/users/@me/channels"


def _channel_history(rec: RecordedRequest) -> bool:
    return rec.path == f"/channels/{TEXT_CHANNEL_ID}/messages"


def _token_fetch(rec: RecordedRequest) -> bool:
    return rec.path.startswith("/webhooks/")


def net(kind: str, mode: str, when: Callable[[RecordedRequest], bool] | None = None) -> Hook:
    """Arm one network fault on the next request of ``kind``; a stall gets the bot's Discord
    timeout shortened so it becomes a fault the job survives quickly."""

    async def arm(fw: FaultWorld) -> None:
        if mode == "stall":
            assert set_discord_timeout(fw.w.bot, STALL_TIMEOUT)
        fw.w.discord.net_fault(kind, mode, when=when)

    return arm


def then(*hooks: Hook) -> Hook:
    async def run(fw: FaultWorld) -> None:
        for hook in hooks:
            await hook(fw)

    return run


def click_delete_with(mode: str) -> Hook:
    """Once the video is shown, its owner clicks Delete and the click's defer meets ``mode``;
    the bot must neither delete anything nor lose the job's outcome."""

    async def during(fw: FaultWorld) -> None:
        assert fw.handle is not None
        w = fw.w
        result = await w.outcome(fw.handle)
        await net("callback", mode)(fw)
        job = await fw.in_state(JobState.DONE)
        click = await w.discord.click_button(result.id, f"hh:delete:{job.id}")
        callback = f"/interactions/{click.id}/{click.token}/callback"
        # The bot gives up on the defer and answers through the error funnel (a second
        # callback: accepted after a reset, 40060 after a lost answer, maybe too late after a
        # stall: then Discord itself says the interaction failed).
        await w.discord.wait_for(
            lambda: len([r for r in w.discord.requests if r.path == callback]) >= 2,
            timeout=STALL_TIMEOUT + 5,
        )
        if mode != "stall":
            assert await w.private_answer(click) == s.BUTTON_FAILED
        assert not result.deleted, "a click the bot never acknowledged deleted the video"

    return during


def on_world(hook: Callable[[BotWorld], Awaitable[None]]) -> Hook:
    async def run(fw: FaultWorld) -> None:
        await hook(fw.w)

    return run


def after_outcome(check: Callable[[BotWorld], Awaitable[None]]) -> Hook:
    """Once the job's outcome is shown, ``check`` what else the row promises."""

    async def run(fw: FaultWorld) -> None:
        assert fw.handle is not None
        await fw.w.outcome(fw.handle)
        await check(fw.w)

    return run


# --- rows on the core alone (a restart of the runner) ----------------------------------------
async def restart_while_running(tmp: Path) -> Outcome:
    async with core_world(tmp, script=FAST) as c:
        job = await c.submit()
        await eventually(lambda: _core_state(c, job.id, JobState.RUNNING), what="running")
        await c.restart()
        return await _core_outcome(c, job.id)


async def restart_while_submitting(tmp: Path) -> Outcome:
    # No grace for the create in flight: the stop cuts it off as a crash would.
    async with core_world(tmp, script=FAST, config=RunnerConfig(submit_grace=0)) as c:
        c.fake.create_faults.append("slow")  # the create is in flight when the process stops
        job = await c.submit()
        await eventually(c.fake.creates, what="a create request")
        await c.restart()
        return await _core_outcome(c, job.id)


async def clean_stop_while_submitting(tmp: Path) -> Outcome:
    async with core_world(tmp, script=FAST) as c:
        c.fake.slow_delay = 60.0  # the create answers a moment after the stop begins
        c.fake.create_faults.append("slow")
        job = await c.submit()
        await eventually(c.fake.creates, what="a create request")
        await c.restart()
        return await _core_outcome(c, job.id)


async def _core_state(c: Any, job_id: str, state: JobState) -> bool:
    job = await c.store.get_job(job_id)
    return job is not None and job.state is state


async def _core_outcome(c: Any, job_id: str) -> Outcome:
    async def final() -> Job | None:
        job = await c.store.get_job(job_id)
        return job if job is not None and job.state.final else None

    job = await eventually(final, what="the job to end")
    if c.delivery.delivered:
        [delivered] = c.delivery.delivered
        message = FILE if delivered.data == c.fake.video_bytes else LINK
    else:
        [(_, error)] = c.delivery.failures
        message = s.error_message(error)
    ledger = tuple(e.kind for e in await c.store.ledger(job_id))
    billed = await c.store.billed(job_id) is not None
    return Outcome(job.state.value, "runner", message, ledger, len(c.fake.creates()), billed)


def scale_row(run: Callable[[Path], Awaitable[scale_faults.Seen]]) -> CoreRun:
    """A scale-out row (``tests/scale_faults.py``): real bot processes on a PostgreSQL of their
    own; "start" rows are refused before the process runs."""

    async def core(tmp: Path) -> Outcome:
        return Outcome(*await run(tmp))

    return core


PG = (pytest.mark.postgres, pytest.mark.slow)
SQLITE_FILE = (pytest.mark.sqlite_file,)  # locks the SQLite file: one bot only (conftest.py)
REFUSED_START = Outcome("none", "start", "", (), 0)

REJECTED = "The video service rejected the request:"
FAILED_OTHER = "The video service failed to make this video"

# fmt: off
ROWS: list[Row] = [
    # -- create --------------------------------------------------------------------------
    Row("create-400-invalid", "create", "400 InvalidParameter",
        failed(REJECTED), create_faults("invalid")),
    Row("create-400-moderation", "create", "400 DataInspectionFailed",
        failed(s.MODERATION), create_faults("moderation")),
    Row("create-500-parse", "create", "500 with a parse error",
        failed(REJECTED), create_faults("parse")),
    Row("create-401", "create", "401 bad key", failed(s.AUTH), create_faults("auth")),
    Row("create-403", "create", "403 group not allowed",
        failed(s.AUTH), create_faults("forbidden")),
    Row("create-429-once", "create", "429 throttle, then accepted",
        done(creates=2), create_faults("throttle")),
    Row("create-429-always", "create", "429 throttle on all 4 attempts",
        failed(s.THROTTLED, creates=4), create_faults(*["throttle"] * 4)),
    Row("create-429-balance", "create", "429 out of balance",
        failed(s.BALANCE), create_faults("balance")),
    Row("create-500-before", "create", "JSON 500 answered before any task was made",
        failed(s.UNKNOWN, billed=True), create_faults("5xx")),
    Row("create-500-after", "create", "JSON 500 answered after the task was made",
        failed(s.UNKNOWN, billed=True), create_faults("500_after")),
    Row("create-503", "create", "JSON 503 service unavailable",
        failed(s.UNKNOWN, billed=True), create_faults("503")),
    Row("create-504-proxy", "create", "504 from a proxy (task may exist)",
        failed(s.UNKNOWN, billed=True), create_faults("gateway_timeout")),
    Row("create-refused-once", "create", "connection refused (not sent), then reachable",
        done(), open_gate_after_first_attempt, gated=True),
    Row("create-refused-always", "create", "connection refused on all 4 attempts (never sent)",
        failed(s.UPSTREAM, creates=0), gated=True),
    Row("create-timeout-after-send", "create", "task made, then a stall past the timeout",
        failed(s.UNKNOWN, billed=True), timeouts(create_faults("slow"), create=0.3)),
    Row("create-stall-before", "create", "stall past the timeout before any task was made",
        failed(s.UNKNOWN, billed=True), timeouts(create_faults("stall_before"), create=0.3)),
    Row("create-lost", "create", "task created, connection dropped before the answer",
        failed(s.UNKNOWN, billed=True), create_faults("lost")),
    Row("create-reset", "create", "connection reset before handling",
        failed(s.UNKNOWN, billed=True), create_faults("reset")),
    Row("create-garbage", "create", "200 with an HTML body (no task id)",
        failed(s.UNKNOWN, billed=True), create_faults("garbage")),
    # -- poll ----------------------------------------------------------------------------
    Row("poll-5xx", "poll", "500 on three polls", done(), poll_faults("5xx", "5xx", "5xx")),
    Row("poll-429", "poll", "429 on three polls", done(), poll_faults("429", "429", "429")),
    Row("poll-timeout", "poll", "two polls time out",
        done(), timeouts(poll_faults("slow", "slow"), poll=0.3)),
    Row("poll-reset", "poll", "two polls reset before handling",
        done(), poll_faults("reset", "reset")),
    Row("poll-lost", "poll", "two polls handled, then the connection dropped",
        done(), poll_faults("lost", "lost")),
    Row("poll-stall", "poll", "two polls handled, then a stall past the timeout",
        done(), timeouts(poll_faults("stall", "stall"), poll=0.3)),
    Row("poll-garbage", "poll", "two polls answer HTML", done(), poll_faults("garbage", "garbage")),
    Row("poll-401", "poll", "401 on a poll", failed(s.AUTH, billed=True), poll_faults("auth")),
    Row("poll-403", "poll", "403 on a poll (the key's group lost the model)",
        failed(s.AUTH, billed=True), poll_faults("forbidden")),
    Row("poll-unknown", "poll", "the API says the task is unknown",
        failed(s.TASK_UNKNOWN, state="expired", billed=True), poll_faults("unknown")),
    Row("poll-expired", "poll", "the task id expires while running",
        failed(s.TASK_UNKNOWN, state="expired", billed=True), during=expire_task),
    Row("poll-deadline", "poll", "the task outlasts the poll deadline (120 s)",
        failed(s.EXPIRED, state="expired", billed=True), script=TaskScript(duration=600),
        settings={"poll_deadline": 120.0}),
    # -- the task fails upstream -----------------------------------------------------------
    *[
        Row(f"task-{code}", "task", f"task failed: {code}", failed(message),
            script=TaskScript(duration=30, outcome="failed", fail_code=code,
                              fail_message=f"[{code}] details"))
        for code, message in [
            ("InvalidImageUrl", s.TASK_FAILED["InvalidImageUrl"]),
            ("InvalidParameter", REJECTED),
            ("DataInspectionFailed", s.MODERATION),
            ("InternalError", FAILED_OTHER),
            ("SomethingNew", FAILED_OTHER),
        ]
    ],
    # -- download ------------------------------------------------------------------------
    Row("download-403", "download", "403 (signature or expiry)",
        failed(s.DOWNLOAD, billed=True), download_faults("403")),
    Row("download-404", "download", "404", failed(s.DOWNLOAD, billed=True),
        download_faults("404")),
    Row("download-reset", "download", "reset before handling, twice (aiohttp repeats a GET once)",
        done(message=LINK), download_faults("reset", "reset")),
    Row("download-lost", "download", "headers sent, then the connection dropped",
        done(message=LINK), download_faults("lost")),
    Row("download-stall", "download", "no answer past the stall timeout",
        done(message=LINK), timeouts(download_faults("stall"), download=0.3)),
    Row("download-not-video", "download", "200 with an HTML page instead of the video",
        failed(s.DOWNLOAD, billed=True), download_faults("html")),
    Row("download-redirect", "download", "302 redirect (never followed)",
        failed(s.DOWNLOAD, billed=True), download_faults("redirect")),
    Row("download-metadata-link", "download", "result link at the cloud metadata address",
        failed(s.DOWNLOAD, billed=True), metadata_link),
    Row("download-truncated", "download", "body cut short", done(message=LINK),
        download_faults("truncated")),
    Row("download-slow", "download", "1 KiB every 5 s", done(), download_faults("slow")),
    Row("download-no-length", "download", "chunked, no Content-Length",
        done(), download_faults("nolength")),
    Row("download-over-cap", "download", "larger than MAX_VIDEO_MB",
        done(message=LINK), settings={"max_video_bytes": 4096}),
    Row("download-over-upload", "download", "larger than the upload limit (10.5 MB)",
        done(message=LINK), script=TaskScript(duration=30, video=bytes(10 * MIB + MIB // 2))),
    # -- Discord -------------------------------------------------------------------------
    Row("discord-429-edits", "discord", "429 on three reply edits", done(), rate_limit_edits),
    Row("discord-500-edit", "discord", "500 on a reply edit (retried by discord.py)",
        done(), discord_fault("PATCH", WEBHOOK_EDIT, 500, 0)),
    Row("discord-10062", "discord", "10062 unknown interaction on the defer",
        refused(NOT_EXIST, where="nowhere"),
        discord_fault("POST", r"/callback$", 404, 10062, times=2), during=defer_refused,
        allow=(discord.NotFound,)),
    Row("discord-50027", "discord", "50027 token gone before the result",
        done("channel"), during=token_gone),
    Row("discord-40005", "discord", "413/40005 on the upload (the user's Nitro lapsed)",
        done(message=LINK), during=nitro_lapsed,
        script=TaskScript(duration=30, video=bytes(20 * MIB)),
        video={"attachment_size_limit": 50 * MIB}),
    Row("discord-50013", "discord", "token gone and 50013 in the channel",
        done("dm"), during=token_and_channel_gone),
    Row("discord-50007", "discord", "token gone, 50013 in the channel, 50007 for DMs",
        done("reply", LINK), during=every_route_gone),
    Row("discord-10008", "discord", "10008: the user deleted the progress reply",
        done("channel"), during=reply_deleted),
    Row("discord-followup-50013", "discord", "50013 when posting the public progress reply",
        done("channel"), discord_fault("POST", FOLLOWUP, 403, 50013)),
    # -- the network to Discord: reset before handling, answer lost, stall -------------------
    Row("net-reply-drop", "discord-net", "reply post: connection reset before Discord acts",
        done("channel"), net("followup", "drop")),
    Row("net-reply-lost", "discord-net", "reply post: posted, the answer lost (found again)",
        done(), net("followup", "lost")),
    Row("net-reply-stall", "discord-net", "reply post: no answer within the timeout",
        done("channel"), net("followup", "stall"), settings=SLOW_CLOCK),
    Row("net-progress-drop", "discord-net", "first progress edit after submit: reset",
        done(), net("webhook_edit", "drop", _running_edit)),
    Row("net-progress-lost", "discord-net", "first progress edit after submit: answer lost",
        done(), net("webhook_edit", "lost", _running_edit)),
    Row("net-progress-stall", "discord-net", "first progress edit after submit: stalled",
        done(), net("webhook_edit", "stall", _running_edit), settings=SLOW_CLOCK),
    Row("net-upload-drop", "discord-net", "upload into the reply: reset before Discord acts",
        done("channel"), net("webhook_edit", "drop", _upload)),
    Row("net-upload-lost", "discord-net", "upload into the reply: landed, the answer lost",
        done(), net("webhook_edit", "lost", _upload)),
    Row("net-upload-stall", "discord-net", "upload into the reply: stalled",
        done("channel"), net("webhook_edit", "stall", _upload), settings=SLOW_CLOCK),
    Row("net-channel-drop", "discord-net", "token gone; channel post reset",
        done("dm"), during=then(token_gone, net("channel_post", "drop"))),
    Row("net-channel-lost", "discord-net", "token gone; channel post landed, answer lost",
        done("channel"), during=then(token_gone, net("channel_post", "lost"))),
    Row("net-channel-stall", "discord-net", "token gone; channel post stalled",
        done("dm"), during=then(token_gone, net("channel_post", "stall")), settings=SLOW_CLOCK),
    Row("net-dm-drop", "discord-net", "token gone, 50013 in the channel; DM post reset",
        done("reply", LINK), during=then(token_and_channel_gone, net("dm", "drop", _dm_post))),
    Row("net-dm-lost", "discord-net", "token gone, 50013 in the channel; DM landed, answer lost",
        done("dm"), during=then(token_and_channel_gone, net("dm", "lost", _dm_post))),
    Row("net-dm-stall", "discord-net", "token gone, 50013 in the channel; DM post stalled",
        done("reply", LINK), during=then(token_and_channel_gone, net("dm", "stall", _dm_post)),
        settings=SLOW_CLOCK),
    Row("net-history-drop", "discord-net", "token gone; the channel history read is reset",
        done("channel"), during=then(token_gone, net("history", "drop", _channel_history))),
    Row("net-history-stall", "discord-net", "token gone; the channel history read stalls",
        done("channel"), during=then(token_gone, net("history", "stall", _channel_history)),
        settings=SLOW_CLOCK),
    Row("net-fetch-lost", "discord-net", "reading the reply before the upload: answer lost",
        done(), net("history", "lost", _token_fetch)),
    Row("net-edit-drop", "discord-net", "token gone; a bot-token progress edit is reset",
        done("channel"), during=then(token_gone, net("channel_edit", "drop"))),
    Row("net-edit-stall", "discord-net", "token gone; a bot-token progress edit stalls",
        done("channel"), during=then(token_gone, net("channel_edit", "stall")),
        settings=SLOW_CLOCK),
    Row("net-dm-open-drop", "discord-net", "token gone, 50013 in the channel; opening the DM "
        "is reset", done("reply", LINK),
        during=then(token_and_channel_gone, net("dm", "drop", _dm_open))),
    Row("net-button-drop", "discord-net", "Delete clicked; its defer reset (nothing deleted)",
        done(), during=click_delete_with("drop"), allow=(aiohttp.ClientError, OSError)),
    Row("net-button-lost", "discord-net", "Delete clicked; its defer landed, answer lost",
        done(), during=click_delete_with("lost"), allow=(aiohttp.ClientError, OSError)),
    Row("net-button-stall", "discord-net", "Delete clicked; its defer stalled",
        done(), during=click_delete_with("stall"), allow=(aiohttp.ClientError, OSError),
        settings=SLOW_CLOCK),
    Row("net-defer-drop", "discord-net", "/video's defer reset before Discord acts",
        refused(s.DISCORD_UNREACHABLE), net("callback", "drop"),
        allow=(aiohttp.ClientError, OSError)),
    Row("net-defer-lost", "discord-net", "/video's defer landed, the answer lost",
        refused(s.DISCORD_UNREACHABLE), net("callback", "lost"),
        allow=(aiohttp.ClientError, OSError)),
    # -- the process ---------------------------------------------------------------------
    Row("restart-running", "process", "runner stopped while the task runs, then restarted",
        done("runner"), core=restart_while_running),
    Row("restart-submitting", "process", "runner cut off while the create is in flight",
        failed(s.UNKNOWN, where="runner", billed=True), core=restart_while_submitting),
    Row("stop-submitting", "process", "clean stop while the create is in flight: awaited",
        done("runner"), core=clean_stop_while_submitting),
    # -- the database --------------------------------------------------------------------
    Row("db-busy-briefly", "database", "another writer holds the lock < busy_timeout",
        done(), during=brief_lock_at_task_end, marks=SQLITE_FILE),
    Row("db-locked-admission", "database", "locked past busy_timeout when the job is admitted",
        refused(s.INTERNAL), lock_before, allow=(sqlite3.OperationalError,), marks=SQLITE_FILE),
    Row("db-locked-mid-job", "database", "locked past busy_timeout when the task ends",
        done(), during=long_lock_at_task_end, marks=SQLITE_FILE),
    # -- media: fitting to the route's limit, the archive (real H.264 clips) --------------
    Row("media-corrupt-mp4", "media", "a 12 MB MP4 from the API with its last packets missing",
        done(message=UNSHRUNK), api_sends(big_clip_cut)),
    Row("media-ffmpeg-timeout", "media", "the fit outlives TRANSCODE_TIMEOUT (killed)",
        done(message=UNSHRUNK_POSTER), ffmpeg_stalls_on_encode,
        settings={"transcode_timeout": 1.0}),
    Row("media-ffmpeg-killed", "media", "ffmpeg killed by a signal as the encode starts",
        done(message=UNSHRUNK_POSTER), ffmpeg_killed_on_encode),
    Row("media-too-small", "media", "a limit so small no encode fits (300 KB for 5 s)",
        done(message=UNSHRUNK_POSTER), api_sends(big_clip),
        video={"attachment_size_limit": 300_000}),
    Row("media-disk-full", "media", "the disk fills up while archiving the original",
        done(), disk_full_when_archiving),
    # -- the audit channel: the job is never touched, the admin is told once -----------------
    Row("audit-403", "audit", "the audit channel answers 403 Missing Permissions (50013)",
        done(), on_world(audit.denied), during=after_outcome(audit.told_once(50013))),
    Row("audit-10003", "audit", "the audit channel was deleted: 404 Unknown Channel (10003)",
        done(), on_world(audit.gone), during=after_outcome(audit.told_once(10003))),
    Row("audit-429", "audit", "429 on two audit posts (waited out by discord.py)",
        done(), on_world(audit.rate_limited), during=after_outcome(audit.lines_arrive(3))),
    Row("audit-drop", "audit", "an audit post's connection reset before Discord acts",
        done(), on_world(audit.dropped), during=after_outcome(audit.lines_arrive(2))),
    Row("media-no-audio", "media", "a video with no audio track, over the route's limit",
        done(message=FITTED), api_sends(silent_clip),
        video={"attachment_size_limit": SILENT_ROUTE}, settings=FIT_CLOCK, script=SHORT_TASK),
    Row("media-absurd-header", "media", "the container claims years; the packets span 3 s",
        done(message=FITTED), api_sends(absurd_header_clip),
        video={"attachment_size_limit": SHRINK_ROUTE}, settings=FIT_CLOCK, script=SHORT_TASK),
    Row("media-absurd-duration", "media", "the packets span 700 s, longer than any result",
        done(message=UNSHRUNK), api_sends(overlong_clip),
        video={"attachment_size_limit": SHRINK_ROUTE}),
    Row("media-not-an-mp4", "media", "the API's file is no video at all, over the limit",
        done(message=UNSHRUNK), api_sends(not_a_video),
        video={"attachment_size_limit": SHRINK_ROUTE}),
    # -- scale-out: several processes on one PostgreSQL (tests/scale_faults.py) -----------
    Row("pg-restart-mid-job", "database", "PostgreSQL restarted (fast shutdown) while the task "
        "ends: the job's saves wait for it", done(),
        core=scale_row(scale_faults.pg_restart_mid_job), marks=PG),
    Row("pg-down-admission", "database", "/video while PostgreSQL is down",
        refused(s.INTERNAL), core=scale_row(scale_faults.pg_down_at_admission), marks=PG),
    Row("db-url-wrong", "database", "DATABASE_URL names a PostgreSQL nobody listens on",
        replace(REFUSED_START, message=f"exit 1: {scale_faults.NO_DATABASE}"),
        core=scale_row(scale_faults.wrong_database_url)),
    Row("sigstop-past-lease", "process", "the lease holder frozen (SIGSTOP) past LEASE_LENGTH, "
        "then resumed: another process took the job over", done(),
        core=scale_row(scale_faults.frozen_lease_holder), marks=PG),
    Row("same-shard-ids", "process", "a second process started with a shard the first runs",
        replace(REFUSED_START, message=f"exit 2: {scale_faults.SHARDS_TAKEN}"),
        core=scale_row(scale_faults.same_shard_ids), marks=PG),
]
# fmt: on


# --- running a row --------------------------------------------------------------------------
@asynccontextmanager
async def fault_world(tmp: Path, row: Row) -> AsyncIterator[FaultWorld]:
    gate = Gate(0) if row.gated else None
    settings = dict(row.settings)
    if row.group == "media" or "transcode_timeout" in settings:
        timeout = settings.pop("transcode_timeout", None)
        changes = {} if timeout is None else {"transcode_timeout": timeout}
        settings["media"] = media_settings(tmp, **changes)
    if gate is not None:
        settings["apiyi_base_url"] = gate.url
    allow = (HHError, *row.allow)
    async with bot_world(
        tmp, script=row.script, hh_class=MatrixHappyHorse, allow_errors=allow, **settings
    ) as w:
        if gate is not None:
            gate.target_port = int(w.hh.base_url.rsplit(":", 1)[1])
        fw = FaultWorld(w, gate, WriteLock(tmp / "hh.sqlite3"))
        try:
            yield fw
        finally:
            for cleanup in fw.cleanups:
                cleanup()
            await fw.lock.close()
            if gate is not None:
                await gate.close()


def footer_is(message: StoredMessage, job_id: str) -> bool:
    return any((e.get("footer") or {}).get("text") == f"job {job_id}" for e in message.embeds)


def seen_outcome(w: BotWorld, handle: FakeInteraction, job: Job) -> tuple[str, StoredMessage]:
    """Where the user saw the job's end, and the message: a notice posted for it (channel or
    DM) if there is one, else the progress reply showing a final state. Fails if the user was
    told more than once."""
    reply = w.reply_of(handle)
    posted = [
        m
        for m in bot_messages(w.discord)
        if m is not reply and not m.ephemeral and not m.deleted and footer_is(m, job.id)
    ]
    assert len(posted) <= 1, "the user was told more than once"
    if posted:
        where = "channel" if posted[0].channel_id == TEXT_CHANNEL_ID else "dm"
        return where, posted[0]
    if reply is not None and not reply.deleted and is_final(reply):
        return "reply", reply
    return "nowhere", StoredMessage(0, 0, None, w.discord.bot)


def message_of(w: BotWorld, outcome: StoredMessage, expected: str) -> str:
    videos = {w.hh.video_bytes, *(t.script.video for t in w.hh.tasks.values() if t.script.video)}
    if any(a.data in videos for a in outcome.attachments):
        return FILE
    if expected in (FITTED, UNSHRUNK, UNSHRUNK_POSTER):  # the media rows look closer
        return media_message(w, outcome)
    if "/files/" in outcome.content:
        return LINK
    text = visible_text(outcome)
    return expected if expected and expected in text else text


def media_message(w: BotWorld, outcome: StoredMessage) -> str:
    """What a media row's message shows: a fitted copy (checked to play), or the link said to
    be for a video that could not be shrunk (with a poster or not)."""
    names = [a.filename for a in outcome.attachments]
    if "/files/" not in outcome.content:
        return visible_text(outcome)
    for a in outcome.attachments:
        if a.filename.endswith("-fitted.mp4"):
            copy = w.tmp / "fitted-check.mp4"
            copy.write_bytes(a.data)
            return FITTED if decode_errors(copy) == "" else "a fitted copy that does not play"
    if "could not be shrunk" not in outcome.content:
        return f"the link, attached {names}"
    if names == []:
        return UNSHRUNK
    posters = [a for a in outcome.attachments if a.filename.endswith("-poster.jpg")]
    return UNSHRUNK_POSTER if names == [p.filename for p in posters] else f"attached {names}"


async def run_bot_row(fw: FaultWorld, row: Row) -> Outcome:
    w = fw.w
    if row.arrange is not None:
        await row.arrange(fw)
    fw.handle = handle = await w.video(**row.video)
    if row.during is not None:
        await row.during(fw)
    if row.expect.state == "none":
        if row.expect.where == "private":
            message = await w.private_answer(handle)
        else:
            message = NOT_EXIST if w.discord.original_message(handle.token) is None else "?"
        jobs = await w.services.store.jobs_in_states(list(JobState))
        ledger = tuple(e.kind for e in await w.services.store.ledger())
        state = "none" if not jobs else jobs[0].state.value
        return Outcome(state, row.expect.where, message, ledger, w.creates())

    async def ended() -> tuple[Job, str, StoredMessage] | None:
        job = await fw.job()
        if not job.state.final:
            return None
        where, message = seen_outcome(w, handle, job)
        return (job, where, message) if where != "nowhere" else None

    wait = MEDIA_WAIT if row.group == "media" else 15.0
    job, where, outcome = await eventually(ended, timeout=wait, what="the job's end to show")
    ledger = tuple(e.kind for e in await w.services.store.ledger(job.id))
    message = message_of(w, outcome, row.expect.message)
    billed = await w.services.store.billed(job.id) is not None
    return Outcome(job.state.value, where, message, ledger, w.creates(), billed)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id, marks=r.marks) for r in ROWS])
async def test_fault(tmp_path: Path, row: Row, request: pytest.FixtureRequest) -> None:
    if row.core is not None:
        assert await row.core(tmp_path) == row.expect
        return
    async with fault_world(tmp_path, row) as fw:
        if row.group == "media":
            fw.clips = request.getfixturevalue("clips")
        try:
            observed = await run_bot_row(fw, row)
        finally:
            with contextlib.suppress(Exception):
                await fw.lock.release()
        assert observed == row.expect
        assert await fw.w.services.store.unfinished_jobs() == [], "a job left without a driver"
        assert ping_problems(fw.w.discord, ALICE_ID) == []
        if observed.state == "done" and fw.handle is not None:  # told it ran, never otherwise
            said = fw.w.discord.original_message(fw.handle.token)
            assert said is not None and "nothing was charged" not in said.content.lower()
        hh = fw.w.hh
        fake = fw.w.discord
        unused = [*hh.create_faults, *hh.poll_faults, *hh.download_faults, *fake.faults]
        unused += fake.net_faults
        assert unused == [], "an injected fault never happened"
        tmp_dir = fw.w.services.tmp_dir
        assert list(tmp_dir.rglob("*")) == [], "left in tmp"


def test_the_matrix_covers_every_kind_of_fault() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)
    assert {r.group for r in ROWS} == {
        "create", "poll", "task", "download", "discord", "discord-net", "process", "database",
        "media", "audit",
    }  # fmt: skip
