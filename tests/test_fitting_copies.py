"""``FittedCopies``: the core's answer to "a file of at most N bytes", route after route.

Small real clips (640x360, 3 s): each encode takes about a second."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hh_bot.app import build_media, remove_fit_leftovers
from hh_bot.config import load_settings
from hh_bot.jobs.delivery import VideoResult
from hh_bot.jobs.fitting import FittedCopies
from hh_bot.media import Fitter, LocalArchive, MediaCode
from tests.media_clips import Clips, clips_fixture, decode_errors, normal_ffmpeg  # noqa: F401 - fixtures

ENV = {"DISCORD_TOKEN": "x" * 10, "APIYI_API_KEY": "y" * 10}


@pytest.fixture(name="fitter")
def fitter_fixture(tmp_path: Path) -> Fitter:
    return Fitter(normal_ffmpeg(), tmp_dir=tmp_path / "fit")


def left(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "fit").rglob("*")) if (tmp_path / "fit").exists() else []


async def test_the_original_when_it_fits_and_no_ffmpeg(clips: Clips, fitter: Fitter) -> None:
    size = clips.small.stat().st_size
    copies = FittedCopies(fitter, clips.small, size)
    assert await copies.within(size) == clips.small
    await copies.aclose()
    assert fitter.ffmpeg.runs == 0


async def test_a_copy_is_reused_for_a_smaller_route_or_made_again_from_the_original(
    clips: Clips, fitter: Fitter, tmp_path: Path
) -> None:
    size = clips.small.stat().st_size
    copies = FittedCopies(fitter, clips.small, size)
    try:
        first = await copies.within(700_000)
        assert first is not None and first != clips.small
        assert first.stat().st_size <= 700_000 and decode_errors(first) == ""
        runs = fitter.ffmpeg.runs
        # A smaller limit that the copy already meets: the same copy, no encode.
        assert await copies.within(first.stat().st_size) == first
        assert fitter.ffmpeg.runs == runs
        # Smaller than the copy: fitted again (from the original, not the copy).
        second = await copies.within(first.stat().st_size - 1)
        assert second is not None and second != first
        assert second.stat().st_size < first.stat().st_size and fitter.ffmpeg.runs > runs
        assert copies.transcodes == 2
    finally:
        await copies.aclose()
    assert left(tmp_path) == []


async def test_after_a_failure_only_the_link_and_no_more_ffmpeg(
    clips: Clips, fitter: Fitter, tmp_path: Path
) -> None:
    size = clips.small.stat().st_size
    copies = FittedCopies(fitter, clips.small, size)
    assert await copies.within(300_000) is None  # 3 s in ~40 KB: no encode fits
    assert copies.failure is not None and copies.failure.code is MediaCode.TOO_SMALL
    runs = fitter.ffmpeg.runs
    assert await copies.within(700_000) is None
    assert fitter.ffmpeg.runs == runs
    assert await copies.within(size) == clips.small, "the original still goes where it fits"
    await copies.aclose()
    assert left(tmp_path) == []


async def test_a_result_without_fitting_gives_the_original_or_nothing(clips: Clips) -> None:
    size = clips.small.stat().st_size
    result = VideoResult("https://x.invalid/v.mp4", 0.0, clips.small, size)
    assert await result.upload_file(size) == clips.small
    assert await result.upload_file(size - 1) is None
    assert await VideoResult("https://x.invalid/v.mp4", 0.0, None, None).upload_file(10) is None


def test_the_media_is_built_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {**ENV, "TRANSCODE_SLOTS": "3", "TRANSCODE_TIMEOUT": "42", "ARCHIVE_BUDGET_GB": "0"}
    )
    fitter, archive = build_media(settings, tmp_path)
    assert archive is None and fitter.tmp_dir == tmp_path
    assert fitter.ffmpeg.timeout == 42.0 and fitter.ffmpeg._slots._value == 3
    assert (fitter.ffmpeg.niceness, fitter.ffmpeg.idle) == (19, True)  # production's default
    quiet = load_settings({**ENV, "TRANSCODE_NICENESS": "0", "TRANSCODE_IDLE": "false"})
    fitter, _ = build_media(quiet, tmp_path)
    assert (fitter.ffmpeg.niceness, fitter.ffmpeg.idle) == (0, False)
    settings = load_settings({**ENV, "ARCHIVE_DIR": str(tmp_path / "a"), "ARCHIVE_BUDGET_GB": "2"})
    _, archive = build_media(settings, tmp_path)
    assert isinstance(archive, LocalArchive) and archive.budget_bytes == 2 * 1024**3
    assert archive.root == tmp_path / "a"


def test_only_fit_directories_older_than_any_live_fit_are_swept(tmp_path: Path) -> None:
    old, fresh, other = tmp_path / "hh-fit-old", tmp_path / "hh-fit-new", tmp_path / "x"
    for d in (old, fresh, other):
        d.mkdir()
        (d / "pass-0.log").write_text("x")
    os.utime(old, (time.time() - 4000, time.time() - 4000))
    os.utime(other, (time.time() - 4000, time.time() - 4000))
    remove_fit_leftovers(tmp_path, older_than=3600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hh-fit-new", "x"]


async def test_the_poster_is_made_once_small_and_removed_with_the_copies(
    tmp_path: Path, clips: Clips, fitter: Fitter
) -> None:
    copies = FittedCopies(fitter, clips.portrait, clips.portrait.stat().st_size)
    poster = await copies.poster(10**6)
    assert poster is not None and poster.read_bytes()[:3] == b"\xff\xd8\xff"
    runs = fitter.ffmpeg.runs
    assert await copies.poster(10**6) == poster and fitter.ffmpeg.runs == runs  # made once
    assert await copies.poster(poster.stat().st_size - 1) is None  # over that route's limit
    assert decode_errors(poster) == ""
    await copies.aclose()
    assert not poster.exists() and left(tmp_path) == []
