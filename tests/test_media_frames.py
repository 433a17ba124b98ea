"""Still frames: the last frame is pixel-for-pixel the clip's final frame, the poster decodes,
bad input is a typed error, and nothing but the destination is left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hh_bot.media import (
    FrameError,
    MediaCode,
    ProbeError,
    last_frame,
    poster_frame,
    poster_preview,
    probe,
)
from hh_bot.media.ffmpeg import ffmpeg_exe
from tests.media_clips import Clips, clips_fixture, decode_errors, normal_ffmpeg, tmp_root_fixture  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("tmp_root")

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


def frame_number(src: Path, n: int, out: Path) -> bytes:
    """Frame ``n`` of ``src`` as PNG, chosen by index (no seeking involved)."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(src)]
    args += ["-vf", f"select=eq(n\\,{n})", "-frames:v", "1", str(out)]
    subprocess.run(args, check=True, timeout=120)
    return out.read_bytes()


async def test_last_frame_is_the_final_frame(clips: Clips, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ffmpeg = normal_ffmpeg()
    dest = await last_frame(clips.small, out / "last.png", ffmpeg)
    assert dest == out / "last.png" and ffmpeg.runs == 2  # probe + grab
    expected = frame_number(clips.small, 71, tmp_path / "frame71.png")  # 3 s at 24 fps
    assert dest.read_bytes() == expected
    assert dest.read_bytes() != frame_number(clips.small, 70, tmp_path / "frame70.png")
    assert [p.name for p in out.iterdir()] == ["last.png"]


async def test_last_frame_as_jpeg_decodes(clips: Clips, tmp_path: Path) -> None:
    dest = await last_frame(clips.silent, tmp_path / "last.jpg", normal_ffmpeg())
    assert dest.read_bytes().startswith(JPEG) and decode_errors(dest) == ""


async def test_absurd_container_duration_does_not_send_the_seek_past_the_end(
    clips: Clips, tmp_path: Path
) -> None:
    dest = await last_frame(clips.absurd, tmp_path / "last.png", normal_ffmpeg())
    assert dest.read_bytes() == frame_number(clips.small, 71, tmp_path / "frame71.png")
    poster = await poster_frame(clips.absurd, tmp_path / "poster.jpg", normal_ffmpeg())
    assert poster.read_bytes().startswith(JPEG)


async def test_poster_frame(clips: Clips, tmp_path: Path) -> None:
    dest = await poster_frame(clips.portrait, tmp_path / "poster.png", normal_ffmpeg())
    assert dest.read_bytes().startswith(PNG) and decode_errors(dest) == ""


async def test_a_bad_source_is_a_typed_error_and_leaves_nothing(
    clips: Clips, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ProbeError):
        await last_frame(clips.garbage, out / "last.png", normal_ffmpeg())
    assert list(out.iterdir()) == []


async def test_ffmpeg_failing_is_a_frame_error_and_leaves_nothing(
    clips: Clips, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ffmpeg = normal_ffmpeg()
    facts = await probe(clips.small, ffmpeg)  # facts of another file: ffmpeg itself must fail
    with pytest.raises(FrameError) as caught:
        await last_frame(clips.garbage, out / "last.png", ffmpeg, info=facts)
    assert caught.value.code is MediaCode.CRASHED
    assert list(out.iterdir()) == []


async def test_unknown_format_is_refused(clips: Clips, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        await poster_frame(clips.small, tmp_path / "poster.gif", normal_ffmpeg())
    assert not (tmp_path / "poster.gif").exists()


@pytest.mark.parametrize(("name", "size"), [("portrait", (640, 1138)), ("small", (640, 360))])
async def test_the_preview_poster_is_small_and_never_upscaled(
    clips: Clips, tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    ffmpeg = normal_ffmpeg()
    dest = await poster_preview(getattr(clips, name), tmp_path / "p.jpg", ffmpeg)
    info = await probe(dest, ffmpeg)
    assert (info.width, info.height) == size
    assert info.size < 100_000
    assert sorted(p.name for p in tmp_path.glob("*.jpg")) == ["p.jpg"]  # noqa: ASYNC240
