"""Running the ffmpeg binary from the ``imageio-ffmpeg`` wheel, off the event loop.

Every run is a child process in its own process group at a lower CPU priority, with a timeout
after which the whole group is killed; a run that is cancelled is killed the same way, so no
ffmpeg outlives its caller. Transcodes take one of ``slots`` places (one by default) for their
whole length; probes and frame grabs are short and do not queue behind them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from hh_bot.media.errors import FFmpegError, MediaCode

DEFAULT_NICENESS = 19
"""The child's nice value (the lowest priority): acks and polls win the CPU over a transcode,
whose dozen threads at nice 10 would still outweigh the event loop's one. Configurable
(``TRANSCODE_NICENESS``): on a host whose cores other busy processes keep full, the lowest
priority can starve a transcode into its timeout."""

STDERR_KEEP = 4000
"""Characters of stderr kept on a failure, for logs."""

StartHook = Callable[[int, Sequence[str]], None]
"""Called with (pid, argv) right after each child starts: benchmarks sample its memory."""


def ffmpeg_exe() -> str:
    """The path of the wheel's ffmpeg binary (imported lazily: tests of pure code skip it)."""
    import imageio_ffmpeg  # type: ignore[import-untyped]

    path: str = imageio_ffmpeg.get_ffmpeg_exe()
    return path


@dataclass(frozen=True)
class Completed:
    """A run that exited 0: its decoded stdout and stderr."""

    stdout: str
    stderr: str


class FFmpeg:
    """One owner of ffmpeg children: binary path, priority, the transcode slots, timeouts."""

    def __init__(
        self,
        exe: str | None = None,
        *,
        slots: int = 1,
        timeout: float = 300.0,
        niceness: int = DEFAULT_NICENESS,
        idle: bool = True,
        threads: int = 0,
        on_start: StartHook | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.exe = exe or ffmpeg_exe()
        self.timeout = timeout
        """Seconds one ffmpeg run may take before its process group is killed."""
        self.niceness = niceness
        """The children's nice value; 0 leaves them at the bot's own priority."""
        self.idle = idle
        """Also ``SCHED_IDLE`` (where the OS has it): a core only when nothing else wants one."""
        self.threads = threads
        """``-threads`` for encodes; 0 lets x264 choose."""
        self.on_start = on_start
        self.runs = 0
        """How many children have been started: tests assert that ffmpeg actually ran."""
        self._slots = asyncio.Semaphore(slots)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one transcode place (both passes of a fit run inside one slot)."""
        async with self._slots:
            yield

    async def run(self, args: Sequence[str], *, timeout: float | None = None) -> Completed:
        """Run ``ffmpeg <args>``; raise ``FFmpegError`` (CRASHED/TIMEOUT) unless it exits 0."""
        argv = [self.exe, "-hide_banner", "-nostdin", *args]
        limit = self.timeout if timeout is None else timeout
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # its own process group, killed as one; NOT a new session: with the kernel's
            # autogroup scheduling a new session gets its own CPU share, which would undo
            # the lowered priority against the bot's event loop
            process_group=0,
        )
        self.runs += 1
        try:
            _lower_priority(proc.pid, self.niceness, idle=self.idle)
            if self.on_start is not None:
                self.on_start(proc.pid, argv)
            try:
                out, err = await asyncio.wait_for(proc.communicate(), limit)
            except TimeoutError:
                raise FFmpegError(MediaCode.TIMEOUT, f"after {limit:g} s") from None
        finally:
            if proc.returncode is None:
                await _kill(proc)
        stderr = err.decode(errors="replace")
        if proc.returncode != 0:
            raise FFmpegError(
                MediaCode.CRASHED,
                f"exit {proc.returncode}: {stderr[-STDERR_KEEP:]}",
                returncode=proc.returncode,
            )
        return Completed(out.decode(errors="replace"), stderr)


def _lower_priority(pid: int, niceness: int, *, idle: bool) -> None:
    """Nice the child and, if ``idle`` and the OS has it, make it ``SCHED_IDLE``: it runs only
    when nothing else wants the CPU, so a waking event loop preempts it at once. Set
    microseconds after the spawn, long before ffmpeg has opened its input and started its
    threads (which inherit both). Best effort: a busy host can starve it, and then the timeout
    sends the link; hence both are settings (``TRANSCODE_NICENESS``, ``TRANSCODE_IDLE``)."""
    if niceness:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
    if idle and hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))


async def _kill(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the child's whole process group and reap it (also when we are being cancelled)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    # shield: a cancelled caller must still reap the child, or it lingers as a zombie
    await asyncio.shield(proc.wait())
