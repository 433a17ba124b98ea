"""Real H.264 (+AAC) clips made with the wheel's ffmpeg, for the hh_bot.media tests.

The project's fake MP4s do not decode, so these are encoded from ffmpeg's test sources. Each
clip is made once per test session and cached on disk under pytest's base temp directory;
tests must treat them as read-only. Test modules import ``clips_fixture`` and
``tmp_root_fixture`` to get the ``clips`` and ``tmp_root`` fixtures. Also: the checks every
row repeats (the output decodes, nothing is left in the temp dir), and the ffmpeg settings
every test uses (``normal_ffmpeg``, ``media_settings_for_tests``): the test's own CPU priority.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hh_bot.config import MediaSettings
from hh_bot.media.ffmpeg import FFmpeg, StartHook, ffmpeg_exe

MIB = 1024 * 1024

SAFETY_TIMEOUT = 900.0
"""Seconds one ffmpeg run may take in tests: only a safety net. The longest run here (a pass
over the 12 MB clip) takes seconds on an idle machine; ten times slower stays far inside it.
The timeout itself is tested with an ffmpeg that stalls (``stall_encodes``)."""

NORMAL_PRIORITY: dict[str, Any] = {"niceness": 0, "idle": False}
"""Production runs ffmpeg at nice 19 + SCHED_IDLE; under ``tests.cpu_load``'s busy loops that
starves it into its timeout. Tests run it at their own priority (one test checks the default)."""


def normal_ffmpeg(**changes: Any) -> FFmpeg:
    """An ``FFmpeg`` at the test's own priority, with the safety-net timeout."""
    return FFmpeg(**{**NORMAL_PRIORITY, "timeout": SAFETY_TIMEOUT, **changes})


def media_settings_for_tests(tmp: Path, **changes: Any) -> MediaSettings:
    """``MediaSettings`` for a bot world: the archive under ``tmp``, ffmpeg as ``normal_ffmpeg``."""
    defaults: dict[str, Any] = {
        "archive_dir": str(tmp / "archive"),
        "transcode_timeout": SAFETY_TIMEOUT,
        "transcode_niceness": 0,
        "transcode_idle": False,
    }
    return MediaSettings(**{**defaults, **changes})


def is_encode(argv: Sequence[str]) -> bool:
    """A pass of a fit (``-pass 1``/``-pass 2``), not a probe or a frame grab."""
    return "-pass" in argv


def stall_encodes(stalled: list[int] | None = None) -> StartHook:
    """An ``on_start`` hook that stops (SIGSTOP) every encode as it starts: the run never ends
    by itself, so only the timeout (or a cancellation) ends it, whatever the machine's speed."""

    def stall(pid: int, argv: Sequence[str]) -> None:
        if is_encode(argv):
            os.kill(pid, signal.SIGSTOP)
            if stalled is not None:
                stalled.append(pid)

    return stall


def _encode(out: Path, *, size: str, seconds: float, kbps: int, audio: bool, noise: bool) -> None:
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y"]
    args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    if noise:  # noise makes the clip as hard to compress as real footage: the bitrate sticks
        args += ["-vf", "noise=alls=30:allf=t"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps // 2}k"]
    args += ["-c:a", "aac", "-b:a", "128k", "-shortest"] if audio else ["-an"]
    args += ["-movflags", "+faststart", str(out)]
    subprocess.run(args, check=True, timeout=300)


def _encode_overlong(out: Path) -> None:
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y"]
    args += ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=1:duration=2"]
    args += ["-vf", "noise=alls=60:allf=t,setpts=N*700/TB", "-fps_mode", "passthrough"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "4", "-pix_fmt", "yuv420p"]
    args += ["-an", "-movflags", "+faststart", str(out)]
    subprocess.run(args, check=True, timeout=300)


def patch_container_duration(src: Path, out: Path) -> None:
    """Copy ``src`` with ``moov/mvhd``'s duration set to ~6.8 years' worth of ticks."""
    data = bytearray(src.read_bytes())
    at = data.find(b"mvhd")
    assert at > 0 and data[at + 4] == 0, "expected a version-0 mvhd"
    data[at + 20 : at + 24] = struct.pack(">I", 0xFFFFFFF0)
    out.write_bytes(bytes(data))


@dataclass(frozen=True)
class Clips:
    small: Path
    """640x360, 3 s, H.264 + AAC, ~0.8 MB."""
    silent: Path
    """640x360, 3 s, H.264, no audio track."""
    portrait: Path
    """1080x1920, 2 s, H.264 + AAC (9:16 at 1080P)."""
    big: Path
    """1280x720, 5 s, H.264 + AAC, ~12 MB: the '12 MB onto a 10 MiB route' case."""
    truncated: Path
    """``small`` cut at 60%: opens (faststart), packets missing."""
    header_only: Path
    """``small``'s first 100 bytes: no moov."""
    garbage: Path
    """Random bytes with an .mp4 name."""
    absurd: Path
    """``small`` whose container claims a duration of years."""
    overlong: Path
    """Two 1280x720 frames of noise 700 s apart (3.5 MB): packets that span longer than any
    result can."""


def _make(root: Path) -> Clips:
    c = Clips(*(root / f"{name}.mp4" for name in Clips.__dataclass_fields__))
    if not c.small.exists():
        _encode(c.small, size="640x360", seconds=3, kbps=2000, audio=True, noise=False)
    if not c.silent.exists():
        _encode(c.silent, size="640x360", seconds=3, kbps=1000, audio=False, noise=False)
    if not c.portrait.exists():
        _encode(c.portrait, size="1080x1920", seconds=2, kbps=8000, audio=True, noise=True)
    if not c.big.exists():
        _encode(c.big, size="1280x720", seconds=5, kbps=19000, audio=True, noise=True)
    if not c.overlong.exists():
        _encode_overlong(c.overlong)
    data = c.small.read_bytes()
    c.truncated.write_bytes(data[: len(data) * 6 // 10])
    c.header_only.write_bytes(data[:100])
    c.garbage.write_bytes(bytes(range(256)) * 64)
    patch_container_duration(c.small, c.absurd)
    return c


@pytest.fixture(name="clips", scope="session")
def clips_fixture(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    root = tmp_path_factory.getbasetemp() / "media-clips"
    root.mkdir(exist_ok=True)
    return _make(root)


@pytest.fixture(name="tmp_root")
def tmp_root_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private temp dir, also made the process default; the test fails if anything is left."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    assert sorted(p.name for p in root.rglob("*")) == [], "left in tmp"


def decode_errors(path: Path) -> str:
    """``ffmpeg -v error -i path -f null -``'s stderr: empty when the file decodes cleanly."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path)]
    done = subprocess.run([*args, "-f", "null", "-"], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stderr.decode(errors="replace")
