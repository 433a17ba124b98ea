"""Make a video fit a byte limit: H.264 two-pass at the bitrate its duration allows.

The rule, in order:

1. The target is the smaller of the route's limit and Discord's 25 MiB request cap, less
   ``MESSAGE_OVERHEAD`` (the multipart headers, JSON payload and embed of the same message).
2. A file at or under the target is returned untouched: the caller uploads it byte-identical.
3. Otherwise the bit budget is the target less ``MUX_MARGIN`` for the MP4 boxes; audio (if the
   source has any) keeps ``AUDIO_KBPS`` of AAC, video gets the rest spread over the duration.
4. Downscale ladder on the short side (never upscaling): 1080 while the video bitrate is at
   least ``KEEP_1080_KBPS`` (4 Mbit/s), 720 while at least ``KEEP_720_KBPS``, else 480.
   Under ``MIN_VIDEO_KBPS`` no encode is worth sending: ``FitError(TOO_SMALL)`` before any work.
5. Two passes of libx264 (``PRESET``) at that bitrate, ``-movflags +faststart``. The output is
   probed: it must decode cleanly, be under the target and last within ``DURATION_TOLERANCE``
   of the source. x264 can overshoot a little on short clips, so one overshoot is retried at a
   bitrate scaled down by the miss; a second miss is ``FitError(UNVERIFIED)``.

Everything is written in a private directory under ``tmp_dir`` that is removed when the caller
leaves the context, whatever happened (error, timeout, cancellation).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from hh_bot.media.errors import FFmpegError, FitError, MediaCode, ProbeError
from hh_bot.media.ffmpeg import FFmpeg
from hh_bot.media.probe import MediaInfo, probe

MIB = 1024 * 1024
REQUEST_CAP = 25 * MIB
"""Discord caps a whole request at 25 MiB, whatever the per-file limit."""
MESSAGE_OVERHEAD = 256 * 1024
"""Bytes kept back for the rest of the message (multipart parts, payload JSON, embeds)."""
MUX_MARGIN = 0.03
"""Share of the target left for the MP4 container's own boxes."""
AUDIO_KBPS = 96
KEEP_1080_KBPS = 4000
KEEP_720_KBPS = 1200
MIN_VIDEO_KBPS = 200
PRESET = "veryfast"
DURATION_TOLERANCE = 0.2
"""Seconds the output's duration may differ from the source's."""
RETRY_SHRINK = 0.95
"""On an overshoot the bitrate is scaled by target/actual, times this."""


def target_bytes(limit: int) -> int:
    """The most bytes the video itself may have on a route whose per-file limit is ``limit``."""
    return min(limit, REQUEST_CAP) - MESSAGE_OVERHEAD


@dataclass(frozen=True)
class FitPlan:
    """How one source will be encoded."""

    target: int
    """Bytes the output must stay under."""
    video_kbps: int
    audio_kbps: int
    """0 when the source has no audio track (the output then has none either)."""
    short_side: int
    """Output short side in pixels (the source's when it is not downscaled)."""


def plan_fit(info: MediaInfo, limit: int) -> FitPlan:
    """The encode for ``info`` under ``limit`` (pure); ``FitError(TOO_SMALL)`` if none fits."""
    target = target_bytes(limit)
    audio = AUDIO_KBPS if info.has_audio else 0
    budget_kbit = target * (1 - MUX_MARGIN) * 8 / 1000
    video = int(budget_kbit / info.duration) - audio if target > 0 else 0
    if video < MIN_VIDEO_KBPS:
        raise FitError(MediaCode.TOO_SMALL, f"{video} kbit/s for {info.duration:.2f} s")
    return FitPlan(target, video, audio, min(info.short_side, _rung(video)))


def _rung(video_kbps: int) -> int:
    if video_kbps >= KEEP_1080_KBPS:
        return 1080
    if video_kbps >= KEEP_720_KBPS:
        return 720
    return 480


@dataclass(frozen=True)
class Fitted:
    """The file to upload and the facts about it."""

    path: Path
    """The source itself when untouched; else a file that lives until the context exits."""
    info: MediaInfo
    """Measured facts of ``path`` (what the Parameters card shows)."""
    source: MediaInfo
    plan: FitPlan | None
    """``None`` when the source already fitted."""

    @property
    def transcoded(self) -> bool:
        return self.plan is not None


class Fitter:
    """Fits videos to limits with one ``FFmpeg`` (its slots bound concurrent transcodes)."""

    def __init__(self, ffmpeg: FFmpeg, *, tmp_dir: Path | None = None) -> None:
        self.ffmpeg = ffmpeg
        self.tmp_dir = tmp_dir
        """Parent of each fit's private directory; ``None`` is the system temp dir."""

    @asynccontextmanager
    async def fit(
        self, src: Path, limit: int, *, info: MediaInfo | None = None
    ) -> AsyncIterator[Fitted]:
        """Yield ``src`` untouched if it fits under ``limit``, else a verified fitted copy.

        Raises ``FitError`` (or ``ProbeError`` for a bad source); no file is left behind.
        """
        source = info if info is not None else await probe(src, self.ffmpeg)
        if source.size <= target_bytes(limit):
            yield Fitted(src, source, source, None)
            return
        plan = plan_fit(source, limit)
        work = await asyncio.to_thread(self._workdir)
        try:
            async with self.ffmpeg.slot():
                out, plan = await self._encode_verified(source, plan, work)
            yield Fitted(out.path, out, source, plan)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def _workdir(self) -> Path:
        if self.tmp_dir is not None:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="hh-fit-", dir=self.tmp_dir))

    async def _encode_verified(
        self, source: MediaInfo, plan: FitPlan, work: Path
    ) -> tuple[MediaInfo, FitPlan]:
        for attempt in range(2):
            out = work / f"fitted-{attempt}.mp4"
            try:
                await self._two_pass(source, plan, work, out)
            except FFmpegError as exc:
                raise FitError(exc.code, exc.detail) from None
            try:
                result = await probe(out, self.ffmpeg)
            except ProbeError as exc:
                raise FitError(MediaCode.UNVERIFIED, f"output: {exc.code}") from None
            if abs(result.duration - source.duration) > DURATION_TOLERANCE:
                raise FitError(
                    MediaCode.UNVERIFIED, f"{result.duration:.2f} s vs {source.duration:.2f} s"
                )
            if result.size <= plan.target:
                return result, plan
            await asyncio.to_thread(out.unlink)
            shrunk = int(plan.video_kbps * plan.target / result.size * RETRY_SHRINK)
            if shrunk < MIN_VIDEO_KBPS:
                break
            plan = FitPlan(plan.target, shrunk, plan.audio_kbps, plan.short_side)
        raise FitError(MediaCode.UNVERIFIED, f"over target {plan.target} bytes")

    async def _two_pass(self, source: MediaInfo, plan: FitPlan, work: Path, out: Path) -> None:
        video = [
            "-map", "0:v:0", "-c:v", "libx264", "-preset", PRESET,
            "-b:v", f"{plan.video_kbps}k", "-pix_fmt", "yuv420p",
            "-threads", str(self.ffmpeg.threads), "-passlogfile", str(work / "pass"),
        ]  # fmt: skip
        if plan.short_side < source.short_side:
            # the short side becomes plan.short_side; the other keeps the aspect, rounded even
            landscape = source.width >= source.height
            size = f"-2:{plan.short_side}" if landscape else f"{plan.short_side}:-2"
            video += ["-vf", f"scale={size}"]
        head = ["-v", "error", "-y", "-i", str(source.path)]
        await self.ffmpeg.run([*head, *video, "-pass", "1", "-an", "-f", "null", "-"])
        audio = ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{plan.audio_kbps}k"]
        tail = audio if plan.audio_kbps else ["-an"]
        await self.ffmpeg.run(
            [*head, *video, "-pass", "2", *tail, "-movflags", "+faststart", "-f", "mp4", str(out)]
        )
