"""probe(): real facts from real clips, and a typed error for every kind of bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hh_bot.media import MediaCode, ProbeError, probe
from hh_bot.media.boxes import container_duration
from tests.media_clips import Clips, clips_fixture, normal_ffmpeg, tmp_root_fixture  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("tmp_root")


async def test_reads_duration_size_dimensions_and_audio(clips: Clips) -> None:
    ffmpeg = normal_ffmpeg()
    info = await probe(clips.small, ffmpeg)
    assert ffmpeg.runs == 1
    assert abs(info.duration - 3.0) < 0.1
    assert (info.width, info.height, info.short_side) == (640, 360, 360)
    assert info.size == clips.small.stat().st_size
    assert info.video_codec == "h264" and info.audio_codec == "aac" and info.has_audio
    assert info.container_duration is not None and not info.duration_suspect


async def test_portrait_short_side_is_the_width(clips: Clips) -> None:
    info = await probe(clips.portrait, normal_ffmpeg())
    assert (info.width, info.height, info.short_side) == (1080, 1920, 1080)


async def test_no_audio_track(clips: Clips) -> None:
    info = await probe(clips.silent, normal_ffmpeg())
    assert info.audio_codec is None and not info.has_audio
    assert abs(info.duration - 3.0) < 0.1


async def test_absurd_container_duration_is_reported_beside_the_measured_one(
    clips: Clips,
) -> None:
    info = await probe(clips.absurd, normal_ffmpeg())
    assert abs(info.duration - 3.0) < 0.1  # what plays, from the packets
    assert info.container_duration is not None and info.container_duration > 10_000
    assert info.duration_suspect


async def test_truncated_download_is_corrupt(clips: Clips) -> None:
    with pytest.raises(ProbeError) as caught:
        await probe(clips.truncated, normal_ffmpeg())
    assert caught.value.code is MediaCode.CORRUPT


@pytest.mark.parametrize("name", ["header_only", "garbage"])
async def test_not_a_video_is_unreadable(clips: Clips, name: str) -> None:
    with pytest.raises(ProbeError) as caught:
        await probe(getattr(clips, name), normal_ffmpeg())
    assert caught.value.code is MediaCode.UNREADABLE


async def test_missing_file_is_unreadable_without_running_ffmpeg(tmp_path: Path) -> None:
    ffmpeg = normal_ffmpeg()
    with pytest.raises(ProbeError) as caught:
        await probe(tmp_path / "nope.mp4", ffmpeg)
    assert caught.value.code is MediaCode.UNREADABLE and ffmpeg.runs == 0


def test_container_duration_survives_short_and_malformed_files(
    clips: Clips, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clips.small.read_bytes()[:30])
    assert container_duration(cut) is None
    assert container_duration(clips.garbage) is None
    looping = tmp_path / "zero-size-box.mp4"
    looping.write_bytes(b"\x00\x00\x00\x08free" * 3 + b"\x00\x00\x00\x01moov" + b"\xff" * 8)
    assert container_duration(looping) is None
    assert container_duration(tmp_path / "missing.mp4") is None
