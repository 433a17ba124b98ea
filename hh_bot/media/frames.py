"""Still frames from a video: the last one (the next job's first reference, for "Continue") and
a poster (shown beside a link delivery). JPEG or PNG by the destination's suffix.

Seeks use the measured duration (``MediaInfo.duration``), never the container's claim, so an
absurd header cannot send the seek past the end. Each frame is written to a temporary name in
the destination's directory and renamed into place: a failure leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from hh_bot.media.errors import FFmpegError, FrameError, MediaCode
from hh_bot.media.ffmpeg import FFmpeg
from hh_bot.media.probe import MediaInfo, probe

FRAME_TIMEOUT = 60.0
LAST_WINDOW = 1.0
"""Seconds before the end that are decoded to find the last frame (covers one GOP at 24 fps+)."""
POSTER_AT = 1.0
"""Poster time in seconds, or the middle of clips shorter than twice this."""
_FORMATS = {".jpg": ["-q:v", "2"], ".jpeg": ["-q:v", "2"], ".png": []}
PREVIEW_WIDTH = 640
"""Width of the poster beside a link delivery: enough to recognise the shot, a JPEG of tens of
kilobytes that fits any route's limit beside the message (never upscaled)."""
PREVIEW_QUALITY = ["-q:v", "6"]
"""JPEG quality of the preview (2 is near-lossless; 6 roughly halves the bytes of a noisy frame)."""


async def last_frame(
    src: Path, dest: Path, ffmpeg: FFmpeg, *, info: MediaInfo | None = None
) -> Path:
    """Write the video's last frame to ``dest`` (.jpg/.jpeg/.png); raise ``FrameError``."""
    info = info if info is not None else await _probe(src, ffmpeg)
    start = max(0.0, info.duration - LAST_WINDOW)
    # every decoded frame overwrites the one before: the file ends up holding the last
    return await _grab(ffmpeg, ["-ss", f"{start:.3f}", "-i", str(src)], ["-update", "1"], dest)


async def poster_frame(
    src: Path, dest: Path, ffmpeg: FFmpeg, *, info: MediaInfo | None = None
) -> Path:
    """Write a poster frame (at ``POSTER_AT`` or mid-clip) to ``dest``; raise ``FrameError``."""
    info = info if info is not None else await _probe(src, ffmpeg)
    at = min(POSTER_AT, info.duration / 2)
    return await _grab(ffmpeg, ["-ss", f"{at:.3f}", "-i", str(src)], ["-frames:v", "1"], dest)


async def poster_preview(
    src: Path, dest: Path, ffmpeg: FFmpeg, *, info: MediaInfo | None = None
) -> Path:
    """``poster_frame``, scaled down to ``PREVIEW_WIDTH`` wide (the side that fits the width):
    the small image a link delivery shows. Raise ``FrameError``."""
    info = info if info is not None else await _probe(src, ffmpeg)
    at = min(POSTER_AT, info.duration / 2)
    scale = f"scale='min({PREVIEW_WIDTH},iw)':-2"
    how = ["-frames:v", "1", "-vf", scale]
    quality = PREVIEW_QUALITY if dest.suffix.lower() in (".jpg", ".jpeg") else None
    return await _grab(ffmpeg, ["-ss", f"{at:.3f}", "-i", str(src)], how, dest, quality)


async def _probe(src: Path, ffmpeg: FFmpeg) -> MediaInfo:
    return await probe(src, ffmpeg)


async def _grab(
    ffmpeg: FFmpeg, inp: list[str], how: list[str], dest: Path, quality: list[str] | None = None
) -> Path:
    by_suffix = _FORMATS.get(dest.suffix.lower())
    if by_suffix is None:
        raise ValueError(f"frame format by suffix: one of {sorted(_FORMATS)}")
    quality = by_suffix if quality is None else quality
    tmp = await asyncio.to_thread(_reserve, dest)
    try:
        args = ["-v", "error", "-y", *inp, "-map", "0:v:0", *how, *quality]
        try:
            await ffmpeg.run([*args, "-f", "image2", str(tmp)], timeout=FRAME_TIMEOUT)
        except FFmpegError as exc:
            raise FrameError(exc.code, exc.detail) from None
        if not await asyncio.to_thread(_publish, tmp, dest):
            raise FrameError(MediaCode.NO_FRAME, dest.name)
        return dest
    finally:
        await asyncio.to_thread(_discard, tmp)


def _reserve(dest: Path) -> Path:
    """A fresh temporary name beside ``dest`` (same filesystem, so the rename is atomic)."""
    fd, name = tempfile.mkstemp(prefix=".frame-", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    return Path(name)


def _publish(tmp: Path, dest: Path) -> bool:
    """Rename a non-empty ``tmp`` onto ``dest``; ``False`` if ffmpeg wrote nothing."""
    if tmp.stat().st_size == 0:
        return False
    tmp.replace(dest)
    return True


def _discard(tmp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
