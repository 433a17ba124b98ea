"""The two bots as subprocesses of the benchmark, measured from outside with psutil.

Ours runs through ``tests.launch_bot`` (the real ``bot.main``), the baseline through
``bench.naive_launch``; both get the benchmark's scaled clock through the environment. Peak RSS
is the kernel's high-water mark (``VmHWM``), reset at the start of each measured phase, with a
sampling fallback where ``/proc`` is not available.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from bench.world import API_KEY, BOT_TOKEN, World
from tests.launch_bot import clock_env

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


@dataclass(frozen=True)
class BotSpec:
    name: str  # "ours" | "baseline" | "floor"
    module: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()


# Ours, configured for the workload: no money limits, and room for 100 tasks at once at the API
# (the default global cap of 8 would queue most of them; queueing is not what is measured here).
OURS = BotSpec(
    "ours",
    "tests.launch_bot",
    {
        "GLOBAL_ACTIVE_TASKS": "100",
        "MAX_QUEUED_PER_USER": "3",
        "USER_DAILY_LIMIT_USD": "none",
        "USER_MONTHLY_LIMIT_USD": "none",
        "GUILD_DAILY_LIMIT_USD": "none",
        "GUILD_MONTHLY_LIMIT_USD": "none",
    },
)
BASELINE = BotSpec("baseline", "bench.naive_launch")
FLOOR = BotSpec("floor", "bench.naive_launch", args=("bench.floor_bot",))  # defers, nothing else


class BotProcess:
    def __init__(self, spec: BotSpec, world: World, workdir: Path) -> None:
        self.spec = spec
        self.world = world
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.ps: psutil.Process | None = None
        self._log: IO[bytes] | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._sampled_peak = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.spec.name}.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "APIYI_"))}
        tmp = self.workdir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env.update(
            PYTHONPATH=str(ROOT),
            TMPDIR=str(tmp),
            HH_FAKE_DISCORD=self.world.discord.url,
            DISCORD_TOKEN=BOT_TOKEN,
            APIYI_API_KEY=API_KEY,
            APIYI_BASE_URL=self.world.hh.base_url,
            DATABASE_URL=f"sqlite:///{self.workdir / 'hh.sqlite3'}",
            LOG_LEVEL="WARNING",
            **clock_env(self.world.clock),
            **self.spec.env,
        )
        return env

    async def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until it is connected to the fake gateway."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for stale in self.workdir.glob("hh.sqlite3*"):  # a fresh bot: syncs, no old jobs
            stale.unlink()
        self._log = self.log_path.open("ab")
        gateway = self.world.discord.gateway
        before = gateway.identify_count
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.spec.module,
            *self.spec.args,
            cwd=self.workdir,
            env=self.env(),
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.ps = psutil.Process(self.proc.pid)
        self._sampler = asyncio.create_task(self._sample())
        await self.world.discord.wait_for(
            lambda: gateway.identify_count > before or self.proc.returncode is not None,  # type: ignore[union-attr]
            timeout=timeout,
        )
        if self.proc.returncode is not None:
            raise RuntimeError(f"{self.spec.name} exited at start:\n{self.log_tail()}")

    async def stop(self, timeout: float = 20.0) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._log is not None:
            self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # -- measurements ---------------------------------------------------------------------
    def cpu_seconds(self) -> float:
        assert self.ps is not None
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        assert self.ps is not None
        return float(self.ps.memory_info().rss) / MIB

    def reset_peak(self) -> None:
        """Start a new high-water mark (``clear_refs`` 5), and restart the sampled one."""
        assert self.proc is not None
        self._sampled_peak = 0
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def peak_rss_mb(self) -> float:
        assert self.proc is not None
        hwm = 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
        return max(hwm, self._sampled_peak) / MIB

    async def _sample(self) -> None:
        assert self.ps is not None
        while True:
            with contextlib.suppress(psutil.Error):
                self._sampled_peak = max(self._sampled_peak, self.ps.memory_info().rss)
            await asyncio.sleep(0.02)
