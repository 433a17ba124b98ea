"""Scale-out phases: several real bot processes, shards, one PostgreSQL (``python -m bench.scale``).

* **scale**: 200 /video commands pushed back to back over guilds on all 4 shards, answered by
  1, 2 and 4 processes (the shards split between them); acknowledgement latency (pushed →
  deferral received) per process count. The goal is read at 2 processes.
* **failover**: 20 jobs running in the process of shard 0; it is SIGKILLed; the time until the
  other process holds all 20 (clock seconds, so production seconds), then every job delivered
  once and charged once.
* **launch day**: 1,000 jobs from 400 members at once behind the global cap, two processes:
  acknowledgement, queue wait p50/p95 (created → create sent), whether every member's first
  job started before anyone's third (the fair queue across processes), Discord 429s, and
  memory and CPU per queued job.

Each phase runs on a fresh schema of one embedded PostgreSQL server (``tests/pg_server.py``),
with the fake Discord routing each guild to its shard's process (``tests/scale_world.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from bench.metrics import ack_latencies, percentile
from bench.scale_report import goals
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import FakeMember
from tests.fakes.discord_ratelimit import ChannelRateLimit
from tests.fakes.happyhorse import TaskScript
from tests.pg_server import PgServer, start
from tests.scale_world import BotProcess, ScaleWorld, image, scale_world
from tests.waiting import eventually

TOOK_OVER = re.compile(r"took over (\d+) job")


@dataclass(frozen=True)
class ScaleConfig:
    factor: float = 20.0
    shard_count: int = 4
    guilds: int = 8
    commands: int = 200
    processes: tuple[int, ...] = (1, 2, 4)
    failover_jobs: int = 20
    failover_task: float = 400.0  # clock seconds: running when the process is killed
    lease_length: float = 120.0
    launch_jobs: int = 1000
    launch_members: int = 400
    launch_cap: int = 50
    launch_task: float = 40.0
    launch_channels: int = 40
    launch_timeout: float = 420.0  # real seconds for every launch-day job to end


SMOKE = ScaleConfig(
    factor=50.0,
    commands=12,
    processes=(1, 2),
    failover_jobs=3,
    launch_jobs=24,
    launch_members=10,
    launch_cap=4,
    launch_task=20.0,
    launch_channels=4,
    launch_timeout=300.0,
)


def split(shards: int, processes: int) -> list[str]:
    """The SHARD_IDS of each of ``processes`` processes over ``shards`` shards."""
    return [",".join(str(s) for s in range(shards) if s % processes == i) for i in range(processes)]


def add_members(w: ScaleWorld, count: int) -> list[int]:
    """``count`` new users, members of every guild of the world."""
    ids = []
    for i in range(count):
        user = w.discord.add_user(f"member{i}")
        for gid in w.guild_ids:
            w.discord.guilds[gid].members[user.id] = FakeMember(user)
        ids.append(user.id)
    return ids


async def push(w: ScaleWorld, targets: list[tuple[int, int, int]]) -> list[FakeInteraction]:
    """One /video per (user, guild, channel), pushed back to back over the gateway."""
    payloads = [
        w.discord.slash_payload(
            "video",
            {"prompt": f"[{n}] character1 rides a horse", "image1": image()},
            user=user,
            channel_id=channel,
        )
        for n, (user, _, channel) in enumerate(targets)
    ]
    return [await w.discord.invoke_raw(p) for p in payloads]


async def acked(w: ScaleWorld, its: list[FakeInteraction], timeout: float = 120.0) -> None:
    await w.discord.wait_for(lambda: all(it.callback_at for it in its), timeout=timeout, poll=0.05)


async def settled(w: ScaleWorld, its: list[FakeInteraction], quiet: float = 5.0) -> None:
    """Every command acknowledged, or Discord's 3 s to do so long past and the processes quiet
    (no interaction callback for ``quiet`` seconds): a late deferral is refused (10062), and the
    user sees "the application did not respond", as on Discord."""
    fake = w.discord

    def done() -> bool:
        if all(it.callback_at for it in its):
            return True
        calls = [r.at for r in fake.requests if r.path.endswith("/callback")]
        last = max([its[-1].created_at + fake.ack_deadline, *calls])
        return time.monotonic() - last > quiet

    await fake.wait_for(done, timeout=600, poll=0.2)


async def answered(w: ScaleWorld, its: list[FakeInteraction], timeout: float) -> None:
    """Every command has its answer (the job's reply, or a refusal), not just its deferral."""

    def done() -> bool:
        for it in its:
            message = w.discord.original_message(it.token)
            if message is None or message.loading:
                return False
        return True

    await w.discord.wait_for(done, timeout=timeout, poll=0.1)


async def warm(w: ScaleWorld, user: int) -> None:
    """One command per guild, acknowledged: every process is up and its code paths warm."""
    its = await push(w, [(user, g, w.channels[g]) for g in w.guild_ids])
    await acked(w, its, timeout=60.0)


def ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
    }


async def scale_phase(cfg: ScaleConfig, pg: PgServer, tmp: Path) -> dict[str, Any]:
    curve = []
    for n in cfg.processes:
        url = await pg.fresh_url()
        async with scale_world(
            tmp / f"scale-{n}",
            url,
            guilds=cfg.guilds,
            shard_count=cfg.shard_count,
            factor=cfg.factor,
            script=TaskScript(duration=3600.0),
        ) as w:
            users = add_members(w, cfg.commands + 1)
            for ids in split(cfg.shard_count, n):
                await w.start(ids)
            await w.ready()
            await warm(w, users[-1])
            targets = []
            for i in range(cfg.commands):
                gid = w.guild_ids[i % len(w.guild_ids)]
                targets.append((users[i], gid, w.channels[gid]))
            its = await push(w, targets)
            await acked(w, its)
            lat = [x for x in ack_latencies(its) if x is not None]
            curve.append({"processes": n, "commands": len(its), **ms(lat)})
    at_two = next((c for c in curve if c["processes"] == 2), curve[-1])
    return {
        "shards": cfg.shard_count,
        "guilds": cfg.guilds,
        "commands": cfg.commands,
        "curve": curve,
        "scale_ack_p99_ms_200": at_two["p99"],
        "scale_ack_p50_ms_200": at_two["p50"],
    }


def _took_over(bot: BotProcess) -> int:
    return sum(int(m.group(1)) for line in bot.logs for m in [TOOK_OVER.search(line)] if m)


async def failover_phase(cfg: ScaleConfig, pg: PgServer, tmp: Path) -> dict[str, Any]:
    url = await pg.fresh_url()
    async with scale_world(
        tmp / "failover",
        url,
        guilds=2,
        shard_count=2,
        factor=cfg.factor,
        script=TaskScript(duration=cfg.failover_task),
        LEASE_LENGTH=f"{cfg.lease_length:g}",
    ) as w:
        users = add_members(w, cfg.failover_jobs + 1)
        doomed, survivor = await w.start("0"), await w.start("1")
        await w.ready()
        gid = w.guild_ids[0]  # shard 0: the doomed process admits and drives every job
        its = await push(w, [(u, gid, w.channels[gid]) for u in users[: cfg.failover_jobs]])
        await acked(w, its)

        async def all_running() -> bool:
            jobs = await w.jobs()
            running = [j for j in jobs if j.state.value == "running"]
            return len(running) == cfg.failover_jobs

        await eventually(all_running, timeout=120, what="every job running")
        killed = time.monotonic()
        await doomed.kill()
        await eventually(
            lambda: _took_over(survivor) >= cfg.failover_jobs, timeout=120, what="the takeover"
        )
        took = time.monotonic() - killed
        final = await eventually(
            lambda: w.all_final(cfg.failover_jobs), timeout=180, what="every end"
        )
        ended = time.monotonic() - killed
        once = charged_once = 0
        for job in final:
            once += job.state.value == "done" and w.uploads(job.id) == 1
            charged_once += await w.ledger(job.id) == ["reserve", "commit"]
        return {
            "jobs": cfg.failover_jobs,
            "lease_length_s": cfg.lease_length,
            "failover_takeover_s": round(took * cfg.factor, 1),
            "failover_all_delivered_s": round(ended * cfg.factor, 1),
            "failover_takeover_real_s": round(took, 2),
            "delivered_once": once,
            "charged_once": charged_once,
            "creates": len(w.hh.creates()),
        }


def _rss_cpu(bots: list[BotProcess]) -> tuple[float, float]:
    rss = cpu = 0.0
    for bot in bots:
        p = psutil.Process(bot.proc.pid)
        rss += p.memory_info().rss
        times = p.cpu_times()
        cpu += times.user + times.system
    return rss, cpu


async def launch_day_phase(cfg: ScaleConfig, pg: PgServer, tmp: Path) -> dict[str, Any]:
    url = await pg.fresh_url()
    async with scale_world(
        tmp / "launch",
        url,
        guilds=2,
        shard_count=2,
        factor=cfg.factor,
        script=TaskScript(duration=cfg.launch_task),
        GLOBAL_ACTIVE_TASKS=str(cfg.launch_cap),
        MAX_QUEUED_PER_USER="3",
        MAX_CONCURRENT_PER_USER="2",
    ) as w:
        limiter = ChannelRateLimit(w.discord, w.clock, limit=5, window=5.0, factor=cfg.factor)
        w.discord.faults.append(limiter)  # type: ignore[arg-type]
        channels = {
            g: [w.discord.add_text_channel(g, f"launch-{i}").id for i in range(cfg.launch_channels)]
            for g in w.guild_ids
        }
        members = add_members(w, cfg.launch_members + 1)
        bots = [await w.start("0"), await w.start("1")]
        await w.ready()
        await warm(w, members[-1])
        await eventually(lambda: w.all_final(len(w.guild_ids)), timeout=120, what="warm-up")
        rss_before, cpu_before = _rss_cpu(bots)
        targets = []
        for j in range(cfg.launch_jobs):
            m = j % cfg.launch_members
            gid = w.guild_ids[m % 2]
            targets.append((members[m], gid, channels[gid][m % cfg.launch_channels]))
        began = time.monotonic()
        its = await push(w, targets)
        await settled(w, its)
        in_time = [it for it in its if it.callback_at is not None]
        await answered(w, in_time, timeout=300)
        admitted = len(await w.jobs()) - len(w.guild_ids)
        rss_queued, _ = _rss_cpu(bots)
        total = admitted + len(w.guild_ids)
        try:
            await eventually(lambda: w.all_final(total), timeout=cfg.launch_timeout, what="ends")
            finished = True
        except AssertionError:  # reported, not fatal: what ended is still measured
            finished = False
        took = time.monotonic() - began
        _, cpu_after = _rss_cpu(bots)
        jobs = [j for j in await w.jobs() if j.user_id != members[-1]]
        waits = [j.submitted_at - j.created_at for j in jobs if j.submitted_at is not None]
        by_member: dict[int, list[Any]] = {}
        for job in sorted(jobs, key=lambda j: (j.created_at, j.id)):
            by_member.setdefault(job.user_id, []).append(job)
        firsts = [js[0].submitted_at for js in by_member.values() if js[0].submitted_at]
        thirds = [js[2].submitted_at for js in by_member.values() if len(js) > 2]
        thirds = [t for t in thirds if t is not None]
        later = [
            j.submitted_at - j.created_at
            for js in by_member.values()
            for j in js[1:]
            if j.submitted_at is not None
        ]
        first_waits = [
            js[0].submitted_at - js[0].created_at
            for js in by_member.values()
            if js[0].submitted_at is not None
        ]
        double = 0
        for job in jobs:
            double += (await w.ledger(job.id)).count("commit") > 1
        lat = [x for x in ack_latencies(its) if x is not None]
        return {
            "jobs": cfg.launch_jobs,
            "members": cfg.launch_members,
            "global_cap": cfg.launch_cap,
            "processes": 2,
            "acked_in_3s": len(in_time),
            "admitted": admitted,
            "all_ended_in_time": finished,
            "done": sum(j.state.value == "done" for j in jobs),
            "launch_ack_ms": ms(lat),
            "launch_wait_p50_s": round(percentile(waits, 50), 1),
            "launch_wait_p95_s": round(percentile(waits, 95), 1),
            "launch_wait_max_s": round(max(waits), 1) if waits else None,
            "first_job_wait_p95_s": round(percentile(first_waits, 95), 1),
            "later_jobs_wait_p50_s": round(percentile(later, 50), 1),
            "first_jobs_before_thirds": bool(firsts and thirds) and max(firsts) <= min(thirds),
            "double_charges": double,
            "discord_429s": sum(1 for r in w.discord.requests if r.status == 429),
            "rss_per_queued_job_kb": round((rss_queued - rss_before) / max(1, admitted) / 1024, 1),
            "cpu_ms_per_job": round((cpu_after - cpu_before) * 1000 / max(1, admitted), 1),
            "runtime_real_s": round(took, 1),
        }


async def run_phases(cfg: ScaleConfig, workdir: Path) -> dict[str, Any]:
    """Every scale-out phase on one PostgreSQL server started for the run."""
    folder = Path(tempfile.mkdtemp(prefix="hh-bench-pg-"))
    pg = start(folder)
    started = time.monotonic()
    try:
        result: dict[str, Any] = {"config": asdict(cfg)}
        for name, phase in (
            ("scale", scale_phase),
            ("failover", failover_phase),
            ("launch_day", launch_day_phase),
        ):
            if (name == "failover" and not cfg.failover_jobs) or (
                name == "launch_day" and not cfg.launch_jobs
            ):
                continue
            print(f"[{time.monotonic() - started:5.0f} s] scale-out: {name}", file=sys.stderr)
            result[name] = await phase(cfg, pg, workdir)
        result["runtime_s"] = round(time.monotonic() - started, 1)
        result["load_average_1m"] = round(os.getloadavg()[0], 1)  # how busy the machine was
        return result
    finally:
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cfg = SMOKE if "--smoke" in args else ScaleConfig()
    if "--scale-only" in args:  # a quick look at the acknowledgement curve
        cfg = replace(cfg, failover_jobs=0, launch_jobs=0)
    with tempfile.TemporaryDirectory(prefix="hh-bench-scale-") as tmp:
        result = asyncio.run(run_phases(cfg, Path(tmp)))
    result["goals"] = goals(result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
