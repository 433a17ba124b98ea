"""The real bot as a subprocess that a test can SIGKILL and restart on the same database.

    async with crash_world(tmp_path, GLOBAL_ACTIVE_TASKS="1") as w:
        await w.start()
        handle = await w.video("a prompt")
        await w.wait_job("a prompt", lambda job: job.state == "running")
        await w.kill()          # SIGKILL: no cleanup runs in the bot
        await w.start()         # a new process on the same SQLite file
        job = await w.wait_final("a prompt")

The fake Discord and the fake HappyHorse run in the test process on one ``ScaledClock`` that the
bot shares (``clock_env``), so virtual time is the same on both sides. The test reads the bot's
database read-only, which is how it knows a job's step before it kills the process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogs.ui import strings as s
from hh_bot.clock import ScaledClock
from tests.bot_world import API_KEY, BOT_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, TEXT_CHANNEL_ID, StoredMessage
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.launch_bot import clock_env
from tests.test_launcher import bot_env, start_bot
from tests.waiting import eventually

FACTOR = 200.0
CDN = "https://cdn.discordapp.com/attachments/2000/{n}/{name}"
_ids = itertools.count(1)


@dataclass(frozen=True)
class JobRow:
    """A job as the bot stored it (read straight from its SQLite file)."""

    id: str
    user_id: int
    state: str
    charge: str
    prompt: str
    task_id: str | None
    message_id: int | None
    result_message_id: int | None
    error_kind: str | None

    @property
    def final(self) -> bool:
        return self.state in ("done", "failed", "canceled", "expired")


def image(name: str = "ref.png") -> dict[str, Any]:
    """A Discord attachment (metadata only: the bot never fetches Discord's CDN)."""
    n = next(_ids)
    return {
        "filename": name,
        "data": b"\x89PNG" + bytes(16),
        "size": 200_000,
        "width": 800,
        "height": 600,
        "content_type": "image/png",
        "url": CDN.format(n=n, name=name),
    }


@dataclass
class CrashWorld:
    tmp: Path
    clock: ScaledClock
    hh: FakeHappyHorse
    discord: FakeDiscord
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    logs: list[str] = field(default_factory=list)
    _drain: asyncio.Task[None] | None = None

    # -- the process ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start a bot process (on the clock's current timeline) and wait for its gateway login."""
        assert self.proc is None or self.proc.returncode is not None, "a bot is still running"
        env = bot_env(
            self.tmp, self.discord.url, self.hh.base_url, **clock_env(self.clock), **self.env
        )
        before = self.discord.gateway.identify_count
        proc = self.proc = await start_bot(self.tmp, env)
        self.logs.append(f"---- bot process {proc.pid} ----\n")
        self._drain = asyncio.create_task(self._read(proc))
        await self.discord.wait_for(
            lambda: proc.returncode is not None or self.discord.gateway.identify_count > before,
            timeout=30,
        )
        assert proc.returncode is None, f"the bot stopped at start:\n{self.output}"

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            self.logs.append(line.decode(errors="replace"))

    async def kill(self) -> None:
        """SIGKILL the bot: nothing of its own shutdown runs."""
        assert self.proc is not None and self.proc.returncode is None
        self.proc.kill()
        await self.proc.wait()
        if self._drain is not None:
            await self._drain

    def problems(self) -> list[str]:
        """Log lines of the bot at ERROR level or with a traceback (killed processes included)."""
        return [line for line in self.logs if " ERROR " in line or "Traceback" in line]

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._drain is not None:
            await self._drain

    @property
    def output(self) -> str:
        return "".join(self.logs)

    # -- what users do -------------------------------------------------------------------------

    async def video(self, prompt: str, *, user: int = ALICE_ID) -> FakeInteraction:
        return await self.discord.invoke_slash(
            "video", {"prompt": prompt, "image1": image()}, user=user
        )

    # -- the bot's database, read-only ---------------------------------------------------------

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        path = self.tmp / "hh.sqlite3"
        if not path.exists():
            return []
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):  # migrations not applied yet
                return []
            raise
        finally:
            con.close()

    def jobs(self) -> list[JobRow]:
        rows = self.query(
            "SELECT id, user_id, state, charge, params, task_id, reply, result_message_id,"
            " error_kind FROM jobs ORDER BY created_at, id"
        )
        return [
            JobRow(
                id=r[0],
                user_id=r[1],
                state=r[2],
                charge=r[3],
                prompt=json.loads(r[4])["prompt"],
                task_id=r[5],
                message_id=json.loads(r[6]).get("message_id"),
                result_message_id=r[7],
                error_kind=r[8],
            )
            for r in rows
        ]

    def job(self, prompt: str) -> JobRow | None:
        return next((j for j in self.jobs() if j.prompt == prompt), None)

    def ledger(self, job_id: str) -> list[str]:
        rows = self.query("SELECT kind FROM ledger WHERE job_id = ? ORDER BY id", (job_id,))
        return [r[0] for r in rows]

    async def wait_job(
        self, prompt: str, until: Callable[[JobRow], bool], *, timeout: float = 20.0, what: str = ""
    ) -> JobRow:
        def probe() -> JobRow | None:
            self._check_alive()
            job = self.job(prompt)
            return job if job is not None and until(job) else None

        try:
            return await eventually(probe, timeout=timeout, what=what or f"job {prompt!r}")
        except AssertionError as error:
            raise AssertionError(f"{error}; jobs: {self.jobs()}\n{self.output}") from None

    async def wait_final(self, prompt: str, timeout: float = 30.0) -> JobRow:
        return await self.wait_job(prompt, lambda j: j.final, timeout=timeout, what="final state")

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode not in (None, -9):
            raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.output}")

    # -- what the fakes saw --------------------------------------------------------------------

    def creates_for(self, prompt: str) -> int:
        return sum(1 for r in self.hh.creates() if r.json and r.json["input"]["prompt"] == prompt)

    def job_messages(self, job_id: str) -> list[StoredMessage]:
        """Live messages of the bot that carry this job's footer (channel and every DM)."""
        marker = s.FOOTER.format(job_id=job_id)
        return [
            m
            for m in self.discord.messages.values()
            if not m.deleted
            and m.author.id == self.discord.bot.id
            and any((e.get("footer") or {}).get("text") == marker for e in m.embeds)
        ]

    def video_messages(self, job_id: str) -> list[StoredMessage]:
        """Live messages that carry the job's video file."""
        return [
            m
            for m in self.discord.messages.values()
            if not m.deleted
            and any(
                a.filename == f"hh-{job_id}.mp4" and a.data == self.hh.video_bytes
                for a in m.attachments
            )
        ]

    def uploads(self, job_id: str) -> int:
        """Requests Discord answered that uploaded the job's video."""
        name = f"hh-{job_id}.mp4"
        return sum(
            1 for r in self.discord.requests if r.ok and any(f.filename == name for f in r.files)
        )

    def posts(self, job: JobRow) -> list[StoredMessage]:
        """Outcome messages posted separately from the job's progress reply."""
        return [m for m in self.job_messages(job.id) if m.id != job.message_id]

    def mentions(self, job: JobRow) -> list[StoredMessage]:
        """The job's messages that ping its owner (a notification each)."""
        return [m for m in self.job_messages(job.id) if f"<@{job.user_id}>" in m.content]

    def channel(self) -> list[StoredMessage]:
        return [m for m in self.discord.channel_messages(TEXT_CHANNEL_ID) if not m.ephemeral]


@asynccontextmanager
async def crash_world(
    tmp: Path, *, script: TaskScript | None = None, factor: float = FACTOR, **env: str
) -> AsyncIterator[CrashWorld]:
    """Fakes in this process; ``env`` adds settings for the bot (e.g. ``GLOBAL_ACTIVE_TASKS``)."""
    clock = ScaledClock(factor)
    hh = FakeHappyHorse(api_key=API_KEY, clock=clock, default_script=script or TaskScript())
    await hh.start()
    base_env = {
        "USER_DAILY_LIMIT_USD": "none",
        "USER_MONTHLY_LIMIT_USD": "none",
        "GUILD_DAILY_LIMIT_USD": "none",
        "MAX_QUEUED_PER_USER": "20",
    }
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            world = CrashWorld(tmp, clock, hh, fake, {**base_env, **env})
            try:
                yield world
            finally:
                await world.stop()
    finally:
        await hh.close()
