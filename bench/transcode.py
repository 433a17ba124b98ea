"""The transcode phase: what fitting a result to a 10 MiB route costs, beside the link only.

For each clip (a 1080P/15 s and a 720P/5 s H.264+AAC clip made of noise, so they compress like
real footage and both exceed 10 MiB):

* **fit**: ``Fitter.fit(clip, 10 MiB)`` with the bot's own ``FFmpeg`` (one slot, the priority
  the bot would use here: ``TRANSCODE_NICENESS``/``TRANSCODE_IDLE`` from the environment, else
  nice 19 + idle scheduling): wall time, the ffmpeg child's peak RSS (sampled every 20 ms
  with psutil), output size, bitrate, short side and duration error.
* **link only**: what a link delivery does instead: probe the file (the job's facts) and grab
  its poster (``poster_preview``, shown beside the link).

All the while a ticker on the event loop records its longest stall (a sleep of 5 ms that
returns late): the goal is < 100 ms, so acknowledgements are unaffected by a transcode. The same
ticker over ``IDLE_SECONDS`` with nothing running is the control (a shared machine stalls too).
Beside each stall the ticker reads the loop thread's own CPU time over the same interval: a
stall the loop spent *running* code (busy) is work blocking the loop, one it spent waiting is the
process not being scheduled (the machine's load). ``loop_busy_max_ms`` is the longest busy one.
``python -m bench.run --only transcode`` runs just this phase.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from hh_bot.config import load_media_settings
from hh_bot.media import FFmpeg, Fitter, poster_preview, probe, target_bytes
from hh_bot.media.ffmpeg import ffmpeg_exe

MIB = 1024 * 1024
LIMIT = 10 * MIB
"""An unboosted server's upload limit."""
STALL_GOAL_MS = 100.0
TICK = 0.005
IDLE_SECONDS = 20.0
"""The control: the same ticker with nothing running, to tell the machine's noise apart."""
SMOKE_IDLE_SECONDS = 0.5
SAMPLE = 0.02


@dataclass(frozen=True)
class Clip:
    name: str
    size: str
    seconds: float
    kbps: int
    limit: int = LIMIT
    """The route's upload limit the clip is fitted to."""


FULL = (Clip("1080p_15s", "1920x1080", 15, 20000), Clip("720p_5s", "1280x720", 5, 19000))
SMOKE = (Clip("360p_2s", "640x360", 2, 6000, limit=MIB),)  # 1.8 MB: it must transcode


def sizes(*, smoke: bool) -> tuple[tuple[Clip, ...], float]:
    """The clips and the idle control's length of a full or a smoke run."""
    return (SMOKE, SMOKE_IDLE_SECONDS) if smoke else (FULL, IDLE_SECONDS)


def make_clip(clip: Clip, out: Path) -> Path:
    """Encode a noisy test pattern with a tone (ultrafast: the clip, not the fit, is cheap)."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y"]
    args += ["-f", "lavfi", "-i", f"testsrc2=size={clip.size}:rate=24:duration={clip.seconds}"]
    args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={clip.seconds}"]
    args += ["-vf", "noise=alls=30:allf=t", "-c:v", "libx264", "-preset", "ultrafast"]
    args += ["-b:v", f"{clip.kbps}k", "-maxrate", f"{clip.kbps}k", "-bufsize", f"{clip.kbps}k"]
    args += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest"]
    args += ["-movflags", "+faststart", str(out)]
    subprocess.run(args, check=True, timeout=600)
    return out


class ChildMemory:
    """Peak RSS of the ffmpeg children started through an ``FFmpeg``'s start hook."""

    def __init__(self) -> None:
        self.live: list[psutil.Process] = []
        self.peak = 0

    def on_start(self, pid: int, argv: Sequence[str]) -> None:
        with contextlib.suppress(psutil.Error):
            self.live.append(psutil.Process(pid))

    def sample(self) -> None:
        for proc in list(self.live):
            try:
                self.peak = max(self.peak, proc.memory_info().rss)
            except psutil.Error:
                self.live.remove(proc)

    def reset(self) -> None:
        self.peak = 0


@dataclass
class LoopWatch:
    """What the ticker saw: each tick's lateness, and the loop thread's CPU time in each."""

    stalls: list[float]
    """Milliseconds each 5 ms sleep returned late."""
    busy: list[float]
    """Milliseconds of CPU the loop's thread used over each of those intervals: time the loop
    was running code (ours or the ticker's), not waiting for the CPU or for events."""


@contextlib.asynccontextmanager
async def watching(memory: ChildMemory) -> AsyncIterator[LoopWatch]:
    """Sample child memory and record the loop's stalls (ms) while the body runs."""
    watch = LoopWatch([], [])
    stop = asyncio.Event()

    async def tick() -> None:
        next_sample = 0.0
        while not stop.is_set():
            before = time.perf_counter()
            cpu = time.thread_time()
            await asyncio.sleep(TICK)
            watch.stalls.append((time.perf_counter() - before - TICK) * 1000)
            watch.busy.append((time.thread_time() - cpu) * 1000)
            if before >= next_sample:
                memory.sample()
                next_sample = before + SAMPLE

    task = asyncio.create_task(tick())
    try:
        yield watch
    finally:
        stop.set()
        await task


async def measure(
    memory: ChildMemory, work: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    memory.reset()
    async with watching(memory) as watch:
        started = time.perf_counter()
        facts = await work()
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(memory.peak / MIB, 1),
        "loop_stall_max_ms": round(max(watch.stalls, default=0.0), 2),
        "loop_stall_p99_ms": round(_p99(watch.stalls), 2),
        "loop_busy_max_ms": round(max(watch.busy, default=0.0), 2),
        **facts,
    }


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(len(ordered) * 0.99)] if ordered else 0.0


async def run_phase(
    clips: Sequence[Clip], workdir: Path, idle_seconds: float = IDLE_SECONDS
) -> dict[str, Any]:
    """Make the clips, then fit each to 10 MiB and deliver it as a link, measuring both."""
    await asyncio.to_thread(lambda: workdir.mkdir(parents=True, exist_ok=True))
    memory = ChildMemory()
    media = load_media_settings()
    ffmpeg = FFmpeg(
        on_start=memory.on_start, niceness=media.transcode_niceness, idle=media.transcode_idle
    )
    fitter = Fitter(ffmpeg, tmp_dir=workdir / "tmp")
    per_clip: dict[str, Any] = {}

    async def idle() -> dict[str, Any]:
        await asyncio.sleep(idle_seconds)
        return {}

    control = await measure(memory, idle)
    for clip in clips:
        # clip= binds this iteration's clip into the closures below
        src = await asyncio.to_thread(make_clip, clip, workdir / f"{clip.name}.mp4")

        async def fit(src: Path = src, clip: Clip = clip) -> dict[str, Any]:
            async with fitter.fit(src, clip.limit) as fitted:
                plan = fitted.plan
                return {
                    "source_mib": round(fitted.source.size / MIB, 2),
                    "output_mib": round(fitted.info.size / MIB, 2),
                    "limit_mib": round(clip.limit / MIB, 2),
                    "target_mib": round(target_bytes(clip.limit) / MIB, 2),
                    "transcoded": fitted.transcoded,
                    "video_kbps": plan.video_kbps if plan else None,
                    "short_side": fitted.info.short_side,
                    "duration_error_s": round(
                        abs(fitted.info.duration - fitted.source.duration), 3
                    ),
                }

        async def link_only(src: Path = src) -> dict[str, Any]:
            info = await probe(src, ffmpeg)
            with tempfile.TemporaryDirectory(dir=workdir) as tmp:
                poster = await poster_preview(src, Path(tmp) / "poster.jpg", ffmpeg, info=info)
                kb = (await asyncio.to_thread(poster.stat)).st_size / 1000
            return {"work": "probe + poster frame", "poster_kb": round(kb, 1)}

        per_clip[clip.name] = {
            "transcode": await measure(memory, fit),
            "link_only": await measure(memory, link_only),
        }
    stall = max(c["transcode"]["loop_stall_max_ms"] for c in per_clip.values())
    return {
        "preset": "veryfast two-pass",
        "slots": 1,
        "transcode_niceness": media.transcode_niceness,
        "transcode_idle_scheduling": media.transcode_idle,
        "clips": per_clip,
        "transcode_loop_stall_max_ms": stall,
        "transcode_loop_stall_p99_ms": max(
            c["transcode"]["loop_stall_p99_ms"] for c in per_clip.values()
        ),
        "transcode_loop_busy_max_ms": max(
            c["transcode"]["loop_busy_max_ms"] for c in per_clip.values()
        ),
        "transcode_loop_stall_idle_max_ms": control["loop_stall_max_ms"],
        "transcode_loop_stall_idle_p99_ms": control["loop_stall_p99_ms"],
        "transcode_idle_control_s": idle_seconds,
        "transcode_stall_goal_met": stall < STALL_GOAL_MS,
        "transcode_left_in_tmp": sorted(p.name for p in (workdir / "tmp").glob("*")),
    }


def table(figures: dict[str, Any]) -> str:
    lines = [
        "| clip | path | time | ffmpeg peak RSS | loop stall max / p99 | size |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, both in figures["clips"].items():
        fit, link = both["transcode"], both["link_only"]
        size = f"{fit['source_mib']} MiB → {fit['output_mib']} MiB at {fit['short_side']}p"
        lines.append(
            f"| {name} | fit to {fit['limit_mib']:g} MiB | {fit['seconds']:.1f} s "
            f"| {fit['peak_rss_mb']} MB | {_stall(fit)} | {size} |"
        )
        lines.append(
            f"| {name} | link only ({link['work']}) | {link['seconds']:.2f} s "
            f"| {link['peak_rss_mb']} MB | {_stall(link)} | – |"
        )
    lines.append(
        f"\nLoop stall during transcodes: longest {figures['transcode_loop_stall_max_ms']:.1f} ms"
        f" (goal < {STALL_GOAL_MS:g} ms), p99 {figures['transcode_loop_stall_p99_ms']:.1f} ms;"
        f" idle control ({figures['transcode_idle_control_s']:g} s, nothing running): longest "
        f"{figures['transcode_loop_stall_idle_max_ms']:.1f} ms, "
        f"p99 {figures['transcode_loop_stall_idle_p99_ms']:.1f} ms. Longest the loop spent "
        f"running code in one tick during transcodes: "
        f"{figures['transcode_loop_busy_max_ms']:.1f} ms (the rest of a stall is waiting "
        f"for a CPU)."
    )
    return "\n".join(lines)


def result(figures: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The results JSON of a transcode-only run (the full run nests ``figures`` instead)."""
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "seconds": round(seconds, 1),
        "transcode": figures,
    }


def _stall(row: dict[str, Any]) -> str:
    return f"{row['loop_stall_max_ms']:.1f} / {row['loop_stall_p99_ms']:.1f} ms"


def write_json(data: dict[str, Any], out: Path) -> Path:
    """``transcode-<stamp>.json`` and ``transcode-latest.json``: a transcode-only run never
    overwrites the full run's ``latest.json``."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    (out / f"transcode-{stamp}.json").write_text(text)
    latest = out / "transcode-latest.json"
    latest.write_text(text)
    return latest
