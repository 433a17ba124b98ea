"""The benchmark's phases, each run the same way for both bots.

* **ack**: k /video commands pushed back to back over the gateway (k = 1, 50, 200), each round
  on a freshly started bot; latency is interaction pushed → deferral received at the fake.
* **load**: N users, one request each, arriving uniformly over a window; realistic task
  durations; 8 MB videos. Polls, delivery lag, edits, 429s, CPU per job.
* **burst** (same process, after load): N more users at once whose tasks all finish within
  two seconds of each other, so N 8 MB deliveries overlap. Peak RSS and CPU per job.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bots import BotProcess, BotSpec
from bench.metrics import PhaseFigures, ack_latencies, owner_of, phase_figures
from bench.workload import LONGEST, JobSpec, burst_jobs, load_jobs
from bench.world import World, WorldConfig, world
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_rest import RecordedRequest

MIB = 1024 * 1024
SILENCE_FLOOR = 30.0  # real seconds without a Discord request before a job is taken for dead


@dataclass(frozen=True)
class BenchConfig:
    factor: float = 5.0
    users: int = 100
    burst_users: int = 100
    arrival_window: float = 30.0
    video_mb: float = 8.0
    users_per_channel: int = 5
    rate_limit: int = 5
    rate_window: float = 5.0
    ack_rounds: tuple[tuple[str, int], ...] = (("1", 1), ("50", 50), ("200", 200))
    ack_repeats: int = 3  # fresh processes per round of k > 1 (samples pooled)
    ack_singles: int = 20  # a round of 1 is repeated this often in its session
    ack_fresh_process: bool = True
    progress_interval: float = 5.0
    seed: int = 20240601

    def world_config(self, users: int, video_bytes: int) -> WorldConfig:
        return WorldConfig(
            factor=self.factor,
            users=users,
            users_per_channel=self.users_per_channel,
            video_bytes=video_bytes,
            rate_limit=self.rate_limit,
            rate_window=self.rate_window,
        )


async def push(w: World, payloads: list[dict[str, Any]]) -> list[FakeInteraction]:
    """Push the interactions back to back over the gateway (as fast as one connection allows)."""
    return [await w.discord.invoke_raw(p) for p in payloads]


async def warm_up(w: World, attempts: int = 5) -> None:
    """One /video from a spare user, acknowledged: the bot is ready and its code paths warm."""
    fake = w.discord
    await fake.wait_for(
        lambda: any(c["name"] == "video" for cs in fake.commands.values() for c in cs), timeout=20
    )
    for attempt in range(attempts):
        (it,) = await push(w, [w.warm_payload(f"warm-{attempt}")])
        try:
            await w.discord.wait_for(lambda it=it: it.responded, timeout=10.0)
            return
        except AssertionError:
            continue
    raise RuntimeError("the bot never acknowledged the warm-up command")


async def wait_acks(w: World, its: list[FakeInteraction], deadline: float) -> None:
    """Until every interaction is acknowledged or past Discord's deadline (+ a margin)."""
    latest = max(it.created_at for it in its) + deadline + 0.5
    with contextlib.suppress(AssertionError):  # wait_for's timeout: some were never answered
        await w.discord.wait_for(
            lambda: all(it.responded for it in its), timeout=max(0.0, latest - time.monotonic())
        )


# -- acknowledgement rounds -------------------------------------------------------------


async def ack_rounds(spec: BotSpec, cfg: BenchConfig, workdir: Path) -> dict[str, list[Any]]:
    """Latencies (ms, None when missed) per round label, pooled over the repeats."""
    if not cfg.ack_fresh_process:
        return await _ack_session(spec, cfg, workdir / "ack", list(cfg.ack_rounds))
    out: dict[str, list[Any]] = {}
    for label, k in cfg.ack_rounds:
        repeats = 1 if k == 1 else cfg.ack_repeats
        for n in range(repeats):
            found = await _ack_session(spec, cfg, workdir / f"ack-{label}-{n}", [(label, k)])
            out.setdefault(label, []).extend(found[label])
    return out


async def _ack_session(
    spec: BotSpec, cfg: BenchConfig, workdir: Path, rounds: list[tuple[str, int]]
) -> dict[str, list[Any]]:
    users = sum(k * (cfg.ack_singles if k == 1 else 1) for _, k in rounds)
    out: dict[str, list[Any]] = {}
    async with world(cfg.world_config(users, 100_000)) as w:
        bot = BotProcess(spec, w, workdir)
        await bot.start()
        try:
            await warm_up(w)
            first = 0
            for label, k in rounds:
                singles = cfg.ack_singles if k == 1 else 1  # one command: sample it often
                for _ in range(singles):
                    jobs = [
                        JobSpec(f"ack-{label}-{first + i}", first + i, "720P", 5, 3600.0, 0.0)
                        for i in range(k)
                    ]
                    first += k
                    its = await push(w, [w.payload(job) for job in jobs])
                    await wait_acks(w, its, w.discord.ack_deadline)
                    out.setdefault(label, []).extend(ack_latencies(its))
        finally:
            await bot.stop()
    return out


# -- load and burst ---------------------------------------------------------------------


async def wait_delivered(
    w: World, uids: set[int], tasks_done_by: float, timeout: float, quiet: float = 60.0
) -> bool:
    """Until every user in ``uids`` got a video (an accepted request with a file). Gives up
    early on users whose job evidently died: every task has finished at the API (virtual time
    ``tasks_done_by``) and nothing was sent to Discord for them for ``quiet`` virtual seconds,
    and at least ``SILENCE_FLOOR`` real seconds: the real-time work of a busy bot (100
    downloads at once on a loaded machine) is not compressed, and at a high clock factor 5 s
    of it was taken for death (jobs still downloading reported as never delivered)."""
    start, seen, index = time.monotonic(), set(), 0
    last: dict[int, float] = {}
    unanswered: list[RecordedRequest] = []  # recorded on arrival, not yet answered: look again
    while time.monotonic() - start < timeout:
        requests = w.discord.requests
        fresh, index = requests[index:], len(requests)
        looked, unanswered = [*unanswered, *fresh], []
        for rec in looked:
            owner = owner_of(w, rec)
            if owner in uids:
                last[owner] = max(last.get(owner, 0.0), rec.at)
            if not rec.status:
                unanswered.append(rec)  # its outcome (and maybe its owner) is known later
            elif owner in uids and rec.files and rec.ok:
                seen.add(owner)
        if seen >= uids:
            return True
        silence = max(quiet / w.clock.factor, SILENCE_FLOOR)
        if w.clock.now() > tasks_done_by + quiet and all(
            time.monotonic() - last.get(uid, 0.0) > silence for uid in uids - seen
        ):
            return False
        await asyncio.sleep(0.1)
    return False


async def arrive(w: World, jobs: list[JobSpec], offset: int = 0) -> None:
    """Push each job's command at its arrival time (virtual seconds from now)."""
    start = w.clock.now()
    for job in jobs:
        wait = start + job.arrival - w.clock.now()
        if wait > 0:
            await w.clock.sleep(wait)
        await push(w, [w.payload(job, offset + job.user_index)])


async def measured(
    w: World,
    bot: BotProcess,
    cfg: BenchConfig,
    jobs: list[JobSpec],
    offset: int,
    span: float,
) -> PhaseFigures:
    """Run one phase (arrivals, then wait for every delivery) and read its figures."""
    uid_of = {job.tag: w.user_ids[offset + job.user_index] for job in jobs}
    since = len(w.discord.requests)
    bot.reset_peak()
    cpu0, wall0, start = bot.cpu_seconds(), time.monotonic(), w.clock.now()
    await arrive(w, jobs, offset)
    timeout = (span + 600.0) / cfg.factor + 30.0
    if not await wait_delivered(w, set(uid_of.values()), start + span, timeout):
        print(f"  ! {bot.spec.name}: some videos were never delivered (see the bot's log)")
    figures = phase_figures(
        w, jobs, uid_of, since_request=since, progress_interval=cfg.progress_interval
    )
    figures.cpu_seconds = bot.cpu_seconds() - cpu0
    figures.peak_rss_mb = bot.peak_rss_mb()
    figures.wall_seconds = time.monotonic() - wall0
    return figures


async def load_and_burst(
    spec: BotSpec, cfg: BenchConfig, workdir: Path
) -> tuple[PhaseFigures, PhaseFigures]:
    load = load_jobs(cfg.users, cfg.arrival_window, cfg.seed)
    burst = burst_jobs(cfg.burst_users, cfg.seed + 1)
    video_bytes = int(cfg.video_mb * MIB)
    async with world(cfg.world_config(cfg.users + cfg.burst_users, video_bytes)) as w:
        w.plan(load)
        w.plan(burst)
        bot = BotProcess(spec, w, workdir / "load")
        await bot.start()
        try:
            await warm_up(w)
            span = cfg.arrival_window + LONGEST
            load_figures = await measured(w, bot, cfg, load, 0, span)
            burst_span = max(j.task_seconds for j in burst)
            burst_figures = await measured(w, bot, cfg, burst, cfg.users, burst_span)
        finally:
            await bot.stop()
    return load_figures, burst_figures
