"""Fitting to a byte limit with the real ffmpeg: what fits is untouched, what does not comes
out under the target, decoding cleanly and as long as the source; every fault is a typed
error and leaves nothing in the temp dir (``tmp_root`` checks after each test)."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections.abc import Sequence
from pathlib import Path

import psutil
import pytest

from hh_bot.media import (
    FFmpeg,
    FitError,
    Fitter,
    MediaCode,
    MediaInfo,
    ProbeError,
    plan_fit,
    probe,
    target_bytes,
)
from hh_bot.media.fit import MESSAGE_OVERHEAD, REQUEST_CAP
from tests.media_clips import (  # noqa: F401 - fixtures
    MIB,
    Clips,
    clips_fixture,
    decode_errors,
    normal_ffmpeg,
    tmp_root_fixture,
)

pytestmark = pytest.mark.usefixtures("tmp_root")


def info(*, seconds: float = 5.0, w: int = 1920, h: int = 1080, audio: bool = True) -> MediaInfo:
    return MediaInfo(Path("x.mp4"), 40 * MIB, seconds, w, h, "h264", "aac" if audio else None, 5.0)


# --- the plan (pure) ---------------------------------------------------------------------


def test_target_is_the_limit_capped_at_25_mib_less_the_overhead() -> None:
    assert target_bytes(10 * MIB) == 10 * MIB - MESSAGE_OVERHEAD
    assert target_bytes(100 * MIB) == REQUEST_CAP - MESSAGE_OVERHEAD


def test_1080p_kept_while_the_video_bitrate_stays_above_4_mbits() -> None:
    plan = plan_fit(info(seconds=15), 10 * MIB)  # ~5.3 Mbit/s
    assert plan.video_kbps >= 4000 and plan.short_side == 1080 and plan.audio_kbps == 96
    assert plan.target == 10 * MIB - MESSAGE_OVERHEAD


def test_below_4_mbits_drops_to_720p_then_480p() -> None:
    assert plan_fit(info(seconds=15), 7 * MIB).short_side == 720
    assert plan_fit(info(seconds=15), 2 * MIB).short_side == 480


def test_never_upscales_and_portrait_uses_the_short_side() -> None:
    assert plan_fit(info(seconds=5, w=1280, h=720), 10 * MIB).short_side == 720
    assert plan_fit(info(seconds=15, w=1080, h=1920), 10 * MIB).short_side == 1080


def test_no_audio_track_gives_its_bits_to_the_video() -> None:
    with_audio = plan_fit(info(seconds=10), 10 * MIB)
    silent = plan_fit(info(seconds=10, audio=False), 10 * MIB)
    assert silent.audio_kbps == 0 and silent.video_kbps == with_audio.video_kbps + 96


@pytest.mark.parametrize("limit", [0, 256 * 1024, 400 * 1024])
def test_a_limit_no_encode_can_fit_is_a_typed_error(limit: int) -> None:
    with pytest.raises(FitError) as caught:
        plan_fit(info(seconds=15), limit)
    assert caught.value.code is MediaCode.TOO_SMALL


# --- with ffmpeg -------------------------------------------------------------------------


async def test_a_file_that_fits_is_returned_untouched(clips: Clips) -> None:
    ffmpeg = normal_ffmpeg()
    async with Fitter(ffmpeg).fit(clips.small, 10 * MIB) as fitted:
        assert fitted.path == clips.small and not fitted.transcoded
        assert fitted.info.size == clips.small.stat().st_size
    assert ffmpeg.runs == 1  # the probe only: nothing was encoded


async def test_12_mb_onto_a_10_mib_route(clips: Clips) -> None:
    source_bytes = clips.big.read_bytes()
    assert len(source_bytes) > 10 * MIB
    ffmpeg = normal_ffmpeg()
    async with Fitter(ffmpeg).fit(clips.big, 10 * MIB) as fitted:
        assert fitted.transcoded and fitted.plan is not None
        assert fitted.path != clips.big
        assert fitted.info.size <= target_bytes(10 * MIB)
        assert abs(fitted.info.duration - fitted.source.duration) <= 0.2
        assert fitted.info.has_audio and fitted.info.short_side == 720
        assert decode_errors(fitted.path) == ""
        data = fitted.path.read_bytes()
        assert b"x264" in data  # encoded by libx264 here...
        assert data.find(b"moov") < data.find(b"mdat")  # ...with +faststart
        kept = fitted.path
    assert ffmpeg.runs >= 4  # probe, pass 1, pass 2, probe of the output
    assert not kept.exists()
    assert clips.big.read_bytes() == source_bytes  # the original is never touched


async def test_no_audio_track_stays_silent(clips: Clips) -> None:
    async with Fitter(normal_ffmpeg()).fit(clips.silent, 256 * 1024 + 300_000) as fitted:
        assert fitted.transcoded and not fitted.info.has_audio
        assert fitted.info.size <= 300_000
        assert abs(fitted.info.duration - fitted.source.duration) <= 0.2
        assert decode_errors(fitted.path) == ""


async def test_absurd_container_duration_fits_by_the_real_one(clips: Clips) -> None:
    async with Fitter(normal_ffmpeg()).fit(clips.absurd, 256 * 1024 + 500_000) as fitted:
        assert fitted.source.duration_suspect
        assert fitted.transcoded and abs(fitted.info.duration - 3.0) <= 0.2
        assert not fitted.info.duration_suspect  # the output's header is sane again
        assert decode_errors(fitted.path) == ""


async def test_portrait_1080p_downscales_on_its_short_side(clips: Clips) -> None:
    limit = 256 * 1024 + 400_000  # ~1.5 Mbit/s for 2 s: the 720 rung
    async with Fitter(normal_ffmpeg()).fit(clips.portrait, limit) as fitted:
        assert (fitted.info.width, fitted.info.height) == (720, 1280)
        assert decode_errors(fitted.path) == ""


async def test_too_small_a_limit_runs_no_encode(clips: Clips) -> None:
    ffmpeg = normal_ffmpeg()
    with pytest.raises(FitError) as caught:
        async with Fitter(ffmpeg).fit(clips.big, MESSAGE_OVERHEAD + 1000):
            pytest.fail("no file should be yielded")
    assert caught.value.code is MediaCode.TOO_SMALL
    assert ffmpeg.runs == 1


@pytest.mark.parametrize("name", ["truncated", "header_only"])
async def test_a_bad_source_is_a_probe_error(clips: Clips, name: str) -> None:
    with pytest.raises(ProbeError):
        async with Fitter(normal_ffmpeg()).fit(getattr(clips, name), 100_000):
            pytest.fail("no file should be yielded")


def _is_pass(argv: Sequence[str], n: str) -> bool:
    return any(a == "-pass" and b == n for a, b in itertools.pairwise(argv))


async def test_ffmpeg_killed_mid_way_is_crashed(clips: Clips) -> None:
    killed: list[int] = []

    def kill_pass_2(pid: int, argv: Sequence[str]) -> None:
        if _is_pass(argv, "2"):  # pass 1 is done; the output file is being written
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with pytest.raises(FitError) as caught:
        async with Fitter(normal_ffmpeg(on_start=kill_pass_2)).fit(clips.small, 600_000):
            pytest.fail("no file should be yielded")
    assert caught.value.code is MediaCode.CRASHED and killed


async def test_timeout_kills_the_process_group(clips: Clips) -> None:
    frozen: list[int] = []

    def freeze_pass_1(pid: int, argv: Sequence[str]) -> None:
        if _is_pass(argv, "1"):  # a stopped ffmpeg never finishes: the timeout must fire
            os.kill(pid, signal.SIGSTOP)
            frozen.append(pid)

    ffmpeg = normal_ffmpeg(timeout=1.0, on_start=freeze_pass_1)
    with pytest.raises(FitError) as caught:
        async with Fitter(ffmpeg).fit(clips.small, 600_000):
            pytest.fail("no file should be yielded")
    assert caught.value.code is MediaCode.TIMEOUT and frozen
    assert not psutil.pid_exists(frozen[0])  # killed and reaped


async def test_cancelling_a_fit_kills_ffmpeg_and_cleans_up(clips: Clips) -> None:
    started: list[int] = []
    running = asyncio.Event()

    def note(pid: int, argv: Sequence[str]) -> None:
        if _is_pass(argv, "1"):
            os.kill(pid, signal.SIGSTOP)  # stays mid-way until it is killed
            started.append(pid)
            running.set()

    async def fit() -> None:
        async with Fitter(normal_ffmpeg(on_start=note)).fit(clips.small, 600_000):
            pass

    task = asyncio.create_task(fit())
    await asyncio.wait_for(running.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not psutil.pid_exists(started[0])


async def test_one_transcode_at_a_time_by_default(clips: Clips) -> None:
    live: list[psutil.Process] = []
    overlaps: list[int] = []

    def check(pid: int, argv: Sequence[str]) -> None:
        if _is_pass(argv, "1") or _is_pass(argv, "2"):
            overlaps.extend(p.pid for p in live if p.is_running() and p.status() != "zombie")
            live.append(psutil.Process(pid))

    fitter = Fitter(normal_ffmpeg(on_start=check))

    async def fit() -> None:
        async with fitter.fit(clips.small, 600_000) as fitted:
            assert fitted.transcoded

    await asyncio.gather(fit(), fit())
    assert len(live) >= 4 and overlaps == []  # two passes each (more if a pass overshot)


async def test_fitted_output_probes_like_its_plan(clips: Clips) -> None:
    ffmpeg = normal_ffmpeg()
    async with Fitter(ffmpeg).fit(clips.small, 256 * 1024 + 500_000) as fitted:
        again = await probe(fitted.path, ffmpeg)
        assert again == fitted.info


async def test_ffmpeg_runs_at_the_lowest_priority_in_our_session_by_default(clips: Clips) -> None:
    seen: list[tuple[int, int, int, int]] = []

    def look(pid: int, argv: Sequence[str]) -> None:
        policy = os.sched_getscheduler(pid)
        seen.append((os.getpriority(os.PRIO_PROCESS, pid), policy, os.getsid(pid), os.getpgid(pid)))
        os.kill(pid, signal.SIGKILL)  # seen: no need to wait for a run at the idle priority

    with pytest.raises(ProbeError):
        await probe(clips.small, FFmpeg(on_start=look))
    [(nice, policy, sid, pgid)] = seen
    assert nice == 19 and policy == os.SCHED_IDLE
    # same session (a new one gets its own autogroup CPU share, undoing the nice value) ...
    assert sid == os.getsid(0)
    assert pgid != os.getpgid(0)  # ... but its own process group, so a kill takes it whole


async def test_the_priority_is_a_setting(clips: Clips) -> None:
    """TRANSCODE_NICENESS=0 and TRANSCODE_IDLE=false: ffmpeg competes like any process (for
    hosts whose cores other work keeps busy, where the idle class would starve it)."""
    seen: list[tuple[int, int]] = []

    def look(pid: int, argv: Sequence[str]) -> None:
        seen.append((os.getpriority(os.PRIO_PROCESS, pid), os.sched_getscheduler(pid)))

    info = await probe(clips.small, normal_ffmpeg(on_start=look))
    assert info.size == clips.small.stat().st_size
    assert seen == [(os.getpriority(os.PRIO_PROCESS, 0), os.SCHED_OTHER)]
    seen.clear()
    await probe(clips.small, normal_ffmpeg(niceness=5, on_start=look))
    assert seen == [(max(5, os.getpriority(os.PRIO_PROCESS, 0)), os.SCHED_OTHER)]


async def test_a_fitted_file_is_refitted_for_a_smaller_fallback_route(clips: Clips) -> None:
    fitter = Fitter(normal_ffmpeg())
    async with fitter.fit(clips.small, 256 * 1024 + 600_000) as first:
        assert first.transcoded
        # delivery fell back to a route with a smaller limit: fit the fitted file again
        async with fitter.fit(first.path, 256 * 1024 + 400_000, info=first.info) as second:
            assert second.transcoded and second.info.size <= 400_000
            assert abs(second.info.duration - first.source.duration) <= 0.2
            assert decode_errors(second.path) == ""
        # the same route again: it already fits, nothing is re-encoded
        async with fitter.fit(first.path, 256 * 1024 + 600_000, info=first.info) as same:
            assert same.path == first.path and not same.transcoded
