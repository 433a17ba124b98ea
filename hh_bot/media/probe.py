"""What a video file really is: duration, size, dimensions, audio — measured, not believed.

One ffmpeg run stream-copies every packet to the null muxer (I/O only, no decoding): the input
description gives the streams, the progress report gives the time the packets actually span,
and any error line means damaged or missing data (a truncated download). The container's own
duration claim is read separately (``boxes``) and kept beside the measured one.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hh_bot.media.boxes import container_duration
from hh_bot.media.errors import FFmpegError, MediaCode, ProbeError
from hh_bot.media.ffmpeg import FFmpeg

MAX_SECONDS = 600.0
"""Longest span of packets accepted; results are at most 15 s, so anything longer is broken."""

PROBE_TIMEOUT = 120.0
"""A stream copy of even a 200 MB file takes a second or two; this is only a safety net."""

_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+)")
_OUT_TIME = re.compile(r"^out_time_us=(\d+)$", re.M)
_BAD_LEVEL = re.compile(r"\[(error|fatal)\]")


@dataclass(frozen=True)
class MediaInfo:
    """The facts of one file, as measured."""

    path: Path
    size: int
    """Bytes on disk."""
    duration: float
    """Seconds the packets span (what plays), not the container's claim."""
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    """``None`` when the file has no audio track."""
    container_duration: float | None
    """What ``moov/mvhd`` claims; may be absurd. ``None`` if unreadable."""

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def short_side(self) -> int:
        """The "P" of 720P/1080P, whatever the orientation."""
        return min(self.width, self.height)

    @property
    def duration_suspect(self) -> bool:
        """The container claims a duration more than a second away from what plays."""
        claim = self.container_duration
        return claim is not None and abs(claim - self.duration) > 1.0


async def probe(path: Path, ffmpeg: FFmpeg) -> MediaInfo:
    """Measure ``path``; raise ``ProbeError`` if it is unreadable, damaged or absurdly long."""
    try:
        size = await asyncio.to_thread(os.path.getsize, path)
    except OSError as exc:
        raise ProbeError(MediaCode.UNREADABLE, str(exc)) from None
    args = [
        "-loglevel", "repeat+level+info", "-nostats", "-i", str(path),
        "-map", "0", "-c", "copy", "-f", "null", "-progress", "pipe:1", "-",
    ]  # fmt: skip
    try:
        done = await ffmpeg.run(args, timeout=PROBE_TIMEOUT)
    except FFmpegError as exc:
        code = MediaCode.UNREADABLE if exc.code is MediaCode.CRASHED else exc.code
        raise ProbeError(code, exc.detail) from None
    errors = [line for line in done.stderr.splitlines() if _BAD_LEVEL.search(line)]
    if errors:
        raise ProbeError(MediaCode.CORRUPT, "; ".join(errors[:3]))
    video = _VIDEO.search(done.stderr)
    if video is None:
        raise ProbeError(MediaCode.UNREADABLE, "no video stream")
    times = _OUT_TIME.findall(done.stdout)
    duration = int(times[-1]) / 1e6 if times else 0.0
    if duration <= 0:
        raise ProbeError(MediaCode.UNREADABLE, "no packets")
    if duration > MAX_SECONDS:
        raise ProbeError(MediaCode.TOO_LONG, f"{duration:.1f} s")
    audio = _AUDIO.search(done.stderr)
    return MediaInfo(
        path=path,
        size=size,
        duration=duration,
        width=int(video.group(2)),
        height=int(video.group(3)),
        video_codec=video.group(1),
        audio_codec=audio.group(1) if audio else None,
        container_duration=await asyncio.to_thread(container_duration, path),
    )
