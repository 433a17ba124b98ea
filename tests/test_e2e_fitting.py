"""Results that last, end to end: a video fitted to the route it takes, the original archived.

Real H.264 clips (``tests.media_clips``) go through the fake HappyHorse, the real bot and the
fake Discord. Only the 12 MB clip is ever encoded (one two-pass fit each, ~10 s on 2 busy
cores); timeouts are safety nets, every assertion is on an outcome.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import pytest

from cogs.ui import strings as s
from hh_bot.jobs.model import Job, JobState, VideoFacts
from hh_bot.media import LocalArchive, probe
from hh_bot.media.fit import Fitter
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import MIB, TEXT_CHANNEL_ID, StoredMessage
from tests.fakes.happyhorse import TaskScript
from tests.media_clips import (  # noqa: F401 - fixtures
    Clips,
    _encode,
    clips_fixture,
    decode_errors,
    media_settings_for_tests,
    stall_encodes,
)
from tests.test_e2e_iterate import answer
from tests.waiting import eventually

if TYPE_CHECKING:
    from hh_bot.config import MediaSettings

FIT_WAIT = 900.0  # real seconds: a safety net for one fit, whatever the machine's load
ROUTE = 10 * MIB
# A slow clock for rows whose fit goes through the reply: a fit of seconds must stay far
# inside the interaction token's 15 minutes of virtual time.
SLOW = 5.0

log = logging.getLogger(__name__)


@pytest.fixture(name="big_360p", scope="module")
def big_360p_fixture(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """640x360, 5 s, ~12 MB of noise: over 10 MiB like ``Clips.big`` at a quarter of its
    pixels, so a fit costs a quarter of the time (the re-fit test needs no more)."""
    out = tmp_path_factory.getbasetemp() / "media-clips" / "big_360p.mp4"
    out.parent.mkdir(exist_ok=True)
    if not out.exists():
        _encode(out, size="640x360", seconds=5, kbps=19000, audio=True, noise=True)
    return out.read_bytes()


def media(tmp: Path, **changes: Any) -> MediaSettings:
    return media_settings_for_tests(tmp, **changes)


def fitter_of(w: BotWorld) -> Fitter:
    assert w.services.fitter is not None
    return w.services.fitter


def left_in_tmp(w: BotWorld) -> list[str]:
    return sorted(str(p.relative_to(w.services.tmp_dir)) for p in w.services.tmp_dir.rglob("*"))


async def finished(w: BotWorld, handle: FakeInteraction) -> tuple[Job, StoredMessage]:
    """The job once it has ended, and the message that told its user."""
    result = await w.outcome(handle, timeout=FIT_WAIT)

    async def ended() -> Job | None:
        job = await w.job_of(handle)
        return job if job.state.final else None

    return await eventually(ended, timeout=30, what="the job to end"), result


def assert_done_once(job: Job, ledger: list[str]) -> None:
    assert job.state is JobState.DONE
    assert ledger == ["reserve", "commit"]


async def ledger_of(w: BotWorld, job: Job) -> list[str]:
    return [e.kind for e in await w.services.store.ledger(job.id)]


async def test_a_12_mb_video_on_a_10_mib_route_arrives_fitted_with_the_original_link(
    tmp_path: Path, clips: Clips
) -> None:
    original = clips.big.read_bytes()
    assert len(original) > ROUTE
    async with bot_world(
        tmp_path, script=TaskScript(duration=5), factor=SLOW, media=media(tmp_path)
    ) as w:
        w.hh.video_bytes = original
        started = time.monotonic()
        handle = await w.video(attachment_size_limit=ROUTE)
        job, result = await finished(w, handle)
        seconds = time.monotonic() - started
        # The reply while the token lives, else a channel post: a 10 MiB route either way.
        assert result.channel_id == TEXT_CHANNEL_ID
        [video] = result.attachments
        assert video.filename == f"hh-{job.id}-fitted.mp4"
        assert len(video.data) <= ROUTE and video.data != original
        fitted = tmp_path / "fitted.mp4"
        fitted.write_bytes(video.data)
        assert decode_errors(fitted) == ""
        source = await probe(clips.big, fitter_of(w).ffmpeg)
        out = await probe(fitted, fitter_of(w).ffmpeg)
        assert abs(out.duration - source.duration) <= 0.2
        assert fitter_of(w).ffmpeg.runs >= 3, "probe + two passes: ffmpeg really ran"
        assert w.hh.base_url + "/files/" in result.content
        assert s.human_size(len(original)) in result.content and "<t:" in result.content
        assert_done_once(job, await ledger_of(w, job))
        assert left_in_tmp(w) == []
        assert job.video_facts == VideoFacts(
            round(source.duration, 3), 1280, 720, len(original), audio=True
        ), "the job keeps what the original really is"
        archived = await LocalArchive(tmp_path / "archive", 10**9).get(job.id)
        assert archived is not None and archived.path.read_bytes() == original
        where = "reply" if result is w.reply_of(handle) else "channel"
        log.warning(
            "12 MB clip: %d bytes fitted, %.1f s end to end, in the %s",
            len(video.data),
            seconds,
            where,
        )


async def test_a_video_that_fits_is_uploaded_byte_identical_without_ffmpeg(
    tmp_path: Path, clips: Clips
) -> None:
    original = clips.small.read_bytes()
    async with bot_world(tmp_path, script=TaskScript(duration=30), media=media(tmp_path)) as w:
        w.hh.video_bytes = original
        handle = await w.video()
        job, result = await finished(w, handle)
        assert [a.data for a in result.attachments] == [original]
        assert result.content == s.READY.format(user_id=handle.user.id)
        assert fitter_of(w).ffmpeg.runs == 1, "one probe for the facts, nothing encoded"
        assert job.video_facts is not None and job.video_facts.size == len(original)
        assert (job.video_facts.width, job.video_facts.height) == (640, 360)
        assert abs(job.video_facts.duration - 3.0) <= 0.1 and job.video_facts.audio
        # The Parameters card shows those facts, as read from the file.
        click = await w.discord.click_button(result.id, f"hh:params:{job.id}")
        fields = {f["name"]: f["value"] for f in (await answer(w, click)).embeds[0]["fields"]}
        size = s.human_size(len(original))
        assert fields[s.CARD_VIDEO] == s.CARD_VIDEO_LINE.format(
            duration=f"{job.video_facts.duration:.1f}", width=640, height=360, size=size
        )
        assert_done_once(job, await ledger_of(w, job))
        assert left_in_tmp(w) == []


async def test_token_expired_the_channel_post_gets_a_file_fitted_to_the_guild_limit(
    tmp_path: Path, big_360p: bytes
) -> None:
    """Nitro's 50 MiB would take the original through the token; the token is gone, so the
    channel's 10 MiB applies and the original is fitted to it."""
    original = big_360p
    assert len(original) > ROUTE
    async with bot_world(tmp_path, script=TaskScript(duration=60), media=media(tmp_path)) as w:
        w.hh.video_bytes = original
        handle = await w.video(attachment_size_limit=50 * MIB)
        await w.wait_reply(handle)
        w.discord.expire_token(handle.token)
        job, result = await finished(w, handle)
        assert result is not w.reply_of(handle) and result.channel_id == TEXT_CHANNEL_ID
        [video] = result.attachments
        assert len(video.data) <= ROUTE and video.filename.endswith("-fitted.mp4")
        fitted = tmp_path / "fitted.mp4"
        fitted.write_bytes(video.data)
        assert decode_errors(fitted) == ""
        assert w.hh.base_url + "/files/" in result.content
        assert_done_once(job, await ledger_of(w, job))
        assert left_in_tmp(w) == []


async def failing_fit(
    w: BotWorld, handle: FakeInteraction, *, poster: bool = True
) -> StoredMessage:
    """The link, said to be for a video that could not be shrunk, with a poster when the
    original could be read; the job done and charged once; nothing left in tmp."""
    job, result = await finished(w, handle)
    assert result.content.startswith(f"<@{handle.user.id}> your video is ready, but at")
    assert "could not be shrunk" in result.content
    assert w.hh.base_url + "/files/" in result.content
    if poster:
        [still] = result.attachments
        assert still.filename == f"hh-{job.id}-poster.jpg"
        assert still.data[:3] == b"\xff\xd8\xff" and len(still.data) < 200_000  # a small JPEG
        image = w.tmp / "poster.jpg"
        image.write_bytes(still.data)
        assert decode_errors(image) == ""
    else:
        assert not result.attachments
    assert_done_once(job, await ledger_of(w, job))
    assert left_in_tmp(w) == []
    jobs = await w.services.store.jobs_in_states(list(JobState))
    assert [j.state for j in jobs] == [JobState.DONE]
    return result


async def test_an_ffmpeg_timeout_sends_the_link_and_leaves_nothing(
    tmp_path: Path, clips: Clips
) -> None:
    """The encode stalls (SIGSTOP), so only the timeout ends it, however fast the machine."""
    settings = media(tmp_path, transcode_timeout=1.0)
    async with bot_world(tmp_path, script=TaskScript(duration=30), media=settings) as w:
        stalled: list[int] = []
        fitter_of(w).ffmpeg.on_start = stall_encodes(stalled)
        w.hh.video_bytes = clips.big.read_bytes()
        await failing_fit(w, await w.video())
        assert fitter_of(w).ffmpeg.runs >= 2, "probed, then an encode was started and killed"
        assert len(stalled) == 1 and not psutil.pid_exists(stalled[0])


async def test_a_corrupt_mp4_from_the_api_sends_the_link(tmp_path: Path, clips: Clips) -> None:
    data = clips.big.read_bytes()
    async with bot_world(tmp_path, script=TaskScript(duration=30), media=media(tmp_path)) as w:
        w.hh.video_bytes = data[: len(data) * 95 // 100]  # over 10 MiB, packets missing
        handle = await w.video()
        await failing_fit(w, handle, poster=False)  # nothing readable to make a poster of
        assert (await w.job_of(handle)).video_facts is None


@pytest.mark.parametrize("budget_clips", [2.5])
async def test_the_archive_keeps_the_originals_within_its_budget(
    tmp_path: Path, clips: Clips, budget_clips: float
) -> None:
    original = clips.small.read_bytes()
    budget = int(len(original) * budget_clips)
    settings = media(tmp_path, archive_budget_bytes=budget)
    async with bot_world(tmp_path, script=TaskScript(duration=30), media=settings) as w:
        w.hh.video_bytes = original
        archive = w.services.archive
        assert isinstance(archive, LocalArchive)
        ids = []
        for _ in range(3):
            handle = await w.video()
            job, _ = await finished(w, handle)
            ids.append(job.id)
            stored = await archive.get(job.id)
            assert stored is not None and stored.path.read_bytes() == original
        assert await archive.total_bytes() <= budget
        assert [await archive.has(i) for i in ids] == [False, True, True], "oldest first"


async def test_no_archive_when_its_budget_is_zero(tmp_path: Path, clips: Clips) -> None:
    settings = media(tmp_path, archive_budget_bytes=0)
    async with bot_world(tmp_path, script=TaskScript(duration=30), media=settings) as w:
        assert w.services.archive is None
        w.hh.video_bytes = clips.small.read_bytes()
        job, result = await finished(w, await w.video())
        assert result.attachments and job.state is JobState.DONE
        assert not (tmp_path / "archive").exists()


async def test_a_limit_too_small_for_any_encode_sends_the_link_with_a_poster(
    tmp_path: Path, clips: Clips
) -> None:
    """300 KB for 5 s of 720P: no encode can fit, none is started; the link says so in plain
    words, a poster shows what the video is, and the facts are kept."""
    original = clips.big.read_bytes()
    async with bot_world(tmp_path, script=TaskScript(duration=30), media=media(tmp_path)) as w:
        w.hh.video_bytes = original
        handle = await w.video(attachment_size_limit=300_000)
        result = await failing_fit(w, handle)
        assert not any(a.filename.endswith(".mp4") for a in result.attachments)
        assert fitter_of(w).ffmpeg.runs == 2, "one probe, one poster frame; no encode"
        assert s.human_size(len(original)) in result.content and "<t:" in result.content
        job = await w.job_of(handle)
        assert job.video_facts is not None and job.video_facts.size == len(original)
