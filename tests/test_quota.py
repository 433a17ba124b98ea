"""Quota rules on both store backends (a SQLite file, the suite's PostgreSQL): cost, period
boundaries, overrides, grants, caps, races within a process and across two."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from hh_bot.access.policy import Policy
from hh_bot.access.quota import Quota, cost_of
from hh_bot.config import Limits, Secret, Settings
from hh_bot.errors import QuotaExceeded
from hh_bot.jobs.model import Job, JobParams, JobState, ReplyTarget
from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from hh_bot.store.postgres import PostgresStore
from tests.pg_server import PgServer

S = JobState
GUILD, OTHER_GUILD = 100, 200
ALICE, BOB = 1, 2
JOB_720_5S = 630  # 0.126 $/s × 5 s, in millidollars
NO_LIMITS = Limits(
    user_daily=None,
    user_monthly=None,
    guild_daily=None,
    guild_monthly=None,
    max_concurrent_per_user=10,
    max_queued_per_user=10,
)


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


class ManualClock:
    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


_ids = itertools.count()


def make_job(
    clock: ManualClock,
    user_id: int = ALICE,
    guild_id: int | None = GUILD,
    resolution: str = "720P",
    duration: int = 5,
) -> Job:
    settings = Settings(Secret("t"), Secret("k"))
    return Job(
        id=f"job{next(_ids)}",
        user_id=user_id,
        guild_id=guild_id,
        params=JobParams(
            "p", ("https://x/a.png",), ("image 1",), resolution, duration, "16:9", False
        ),
        reply=ReplyTarget(10, 20, "tok", clock.now() + 900),
        cost=cost_of(settings, resolution, duration),
        created_at=clock.now(),
        updated_at=clock.now(),
    )


@dataclass
class World:
    store: Store
    clock: ManualClock
    policy: Policy
    quota: Quota

    async def admit(
        self, user_id: int = ALICE, guild_id: int | None = GUILD, roles: tuple[int, ...] = ()
    ) -> Job:
        job = make_job(self.clock, user_id, guild_id)
        await self.quota.admit(job, roles)
        return job

    async def refused(
        self, user_id: int = ALICE, guild_id: int | None = GUILD, roles: tuple[int, ...] = ()
    ) -> QuotaExceeded:
        with pytest.raises(QuotaExceeded) as caught:
            await self.admit(user_id, guild_id, roles)
        return caught.value

    async def end(self, job: Job, state: JobState) -> None:
        now = self.clock.now()
        if state is S.DONE:
            job = job.advance(S.SUBMITTING, now).advance(S.RUNNING, now, task_id="t")
            job = job.advance(S.DELIVERING, now)
        await self.store.save(job.advance(state, now))


def world(store: Store, start: float, **limits: Any) -> World:
    lim = replace(NO_LIMITS, **limits)
    settings = Settings(Secret("t"), Secret("k"), limits=lim)
    clock = ManualClock(start)
    policy = Policy(store, lim, settings.defaults)
    return World(store, clock, policy, Quota(store, policy, settings, clock))


# -- cost ------------------------------------------------------------------------------------


def test_cost_is_price_times_duration() -> None:
    settings = Settings(Secret("t"), Secret("k"))
    assert cost_of(settings, "720P", 5) == 630
    assert cost_of(settings, "720P", 15) == 1890
    assert cost_of(settings, "1080P", 5) == 1120
    assert cost_of(settings, "1080P", 10) == 2240
    custom = Settings(Secret("t"), Secret("k"), price_720p_milli=100, price_1080p_milli=300)
    assert cost_of(custom, "720P", 3) == 300
    assert cost_of(custom, "1080P", 3) == 900


# -- periods ---------------------------------------------------------------------------------


async def test_user_daily_limit_across_utc_midnight(store: Store) -> None:
    w = world(store, ts(2024, 3, 10, 23, 59, 59), user_daily=1000)
    await w.admit()
    error = await w.refused()
    assert error.reason == "user_day"
    assert error.resets_at == ts(2024, 3, 11)
    w.clock.t = ts(2024, 3, 11)  # exactly midnight: a new day
    await w.admit()
    assert (await w.refused()).resets_at == ts(2024, 3, 12)


@pytest.mark.parametrize(
    ("last_second", "next_month"),
    [
        ((2024, 1, 31, 23, 59, 59), (2024, 2, 1)),
        ((2024, 2, 29, 23, 59, 59), (2024, 3, 1)),  # leap year
        ((2023, 12, 31, 23, 59, 59), (2024, 1, 1)),
    ],
)
async def test_user_monthly_limit_across_month_boundary(
    store: Store, last_second: tuple[int, int, int, int, int, int], next_month: tuple[int, int, int]
) -> None:
    w = world(store, ts(*last_second), user_monthly=1000)
    await w.admit()
    error = await w.refused()
    assert error.reason == "user_month"
    assert error.resets_at == ts(*next_month)
    w.clock.t = ts(*next_month)
    await w.admit()


async def test_month_limit_counts_earlier_days(store: Store) -> None:
    w = world(store, ts(2024, 5, 1, 8), user_daily=1000, user_monthly=1300)
    await w.admit()
    w.clock.t = ts(2024, 5, 2, 8)
    await w.admit()
    w.clock.t = ts(2024, 5, 20, 8)
    assert (await w.refused()).reason == "user_month"


async def test_guild_daily_limit(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), guild_daily=1000)
    await w.admit(ALICE)
    error = await w.refused(BOB)
    assert (error.reason, error.resets_at) == ("guild_day", ts(2024, 6, 2))
    await w.admit(BOB, OTHER_GUILD)  # each guild has its own pool
    await w.admit(BOB, None)  # direct messages have no guild pool
    w.clock.t = ts(2024, 6, 2)
    await w.admit(BOB)


async def test_guild_monthly_limit(store: Store) -> None:
    w = world(store, ts(2024, 6, 30, 23), guild_monthly=1300)
    await w.admit(ALICE)
    await w.admit(BOB)
    error = await w.refused(3)
    assert (error.reason, error.resets_at) == ("guild_month", ts(2024, 7, 1))


async def test_guild_override_from_policy(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), guild_daily=None)
    await w.policy.set_limit(GUILD, "guild", "day", 630)
    await w.admit(ALICE)
    assert (await w.refused(BOB)).reason == "guild_day"


# -- overrides and grants --------------------------------------------------------------------


async def test_most_generous_role_wins(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S)
    await w.policy.set_limit(GUILD, "role:11", "day", 2 * JOB_720_5S)
    await w.policy.set_limit(GUILD, "role:12", "day", 3 * JOB_720_5S)
    for _ in range(3):
        await w.admit(ALICE, roles=(11, 12))
    assert (await w.refused(ALICE, roles=(11, 12))).reason == "user_day"
    await w.admit(BOB, roles=(11,))
    await w.admit(BOB, roles=(11,))
    assert (await w.refused(BOB, roles=(11,))).reason == "user_day"
    await w.admit(3)
    assert (await w.refused(3, roles=(99,))).reason == "user_day"  # a role without override


async def test_unlimited_role(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S, user_monthly=JOB_720_5S)
    await w.policy.set_limit(GUILD, "role:11", "day", 0)
    await w.policy.set_limit(GUILD, "role:12", "day", -1)  # negative = unlimited
    await w.policy.set_limit(GUILD, "role:12", "month", -1)
    for _ in range(5):
        await w.admit(ALICE, roles=(11, 12))
    limits = await w.policy.effective_limits(GUILD, ALICE, [11, 12])
    assert (limits.user_day, limits.user_month) == (None, None)


async def test_member_override_beats_roles(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=5000)
    await w.policy.set_limit(GUILD, "role:11", "day", -1)
    await w.policy.set_limit(GUILD, f"member:{ALICE}", "day", JOB_720_5S)
    await w.admit(ALICE, roles=(11,))
    assert (await w.refused(ALICE, roles=(11,))).reason == "user_day"
    await w.policy.set_limit(GUILD, f"member:{ALICE}", "day", None)  # cleared: the role again
    await w.admit(ALICE, roles=(11,))


async def test_overrides_are_per_guild(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S)
    await w.policy.set_limit(OTHER_GUILD, f"member:{ALICE}", "day", -1)
    await w.admit(ALICE)
    assert (await w.refused(ALICE)).reason == "user_day"


async def test_grant_raises_the_day_limit_for_that_day_only(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S)
    await w.store.add_grant(GUILD, ALICE, JOB_720_5S, at=w.clock.now(), by=BOB)
    await w.admit()
    await w.admit()
    assert (await w.refused()).reason == "user_day"
    w.clock.t = ts(2024, 6, 2, 12)
    await w.admit()
    assert (await w.refused()).reason == "user_day"


async def test_grant_raises_the_month_limit_for_that_month_only(store: Store) -> None:
    w = world(store, ts(2024, 6, 15, 12), user_monthly=2 * JOB_720_5S)
    await w.store.add_grant(GUILD, ALICE, JOB_720_5S, at=w.clock.now(), by=BOB)
    for _ in range(3):
        await w.admit()
    w.clock.t = ts(2024, 6, 20, 12)  # another day, same month: still granted, all used
    assert (await w.refused()).reason == "user_month"
    w.clock.t = ts(2024, 7, 1)
    await w.admit()
    await w.admit()
    assert (await w.refused()).reason == "user_month"


async def test_grant_in_another_guild_does_not_count(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S)
    await w.store.add_grant(OTHER_GUILD, ALICE, 10_000, at=w.clock.now(), by=BOB)
    await w.admit()
    assert (await w.refused()).reason == "user_day"


# -- caps, cooldown, bans --------------------------------------------------------------------


async def test_unfinished_jobs_cap(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), max_concurrent_per_user=1, max_queued_per_user=2)
    jobs = [await w.admit() for _ in range(3)]
    error = await w.refused()
    assert (error.reason, error.resets_at) == ("too_many_jobs", None)
    await w.admit(BOB)  # other users are not affected
    await w.end(jobs[0], S.DONE)
    await w.admit()
    assert (await w.refused()).reason == "too_many_jobs"
    await w.end(jobs[1], S.FAILED)
    await w.admit()


async def test_cooldown(store: Store) -> None:
    start = ts(2024, 6, 1, 12)
    w = world(store, start, cooldown_seconds=60.0)
    await w.admit()
    w.clock.t = start + 30
    error = await w.refused()
    assert (error.reason, error.resets_at) == ("cooldown", start + 60)
    await w.admit(BOB)
    w.clock.t = start + 60
    await w.admit()


async def test_banned(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12))
    await w.policy.set_banned(GUILD, ALICE, True)
    error = await w.refused()
    assert (error.reason, error.resets_at) == ("banned", None)
    await w.admit(ALICE, OTHER_GUILD)
    await w.policy.set_banned(GUILD, ALICE, False)
    await w.admit()


async def test_refused_job_is_not_stored(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S)
    await w.admit()
    job = make_job(w.clock)
    with pytest.raises(QuotaExceeded):
        await w.quota.admit(job)
    assert await store.get_job(job.id) is None
    assert await store.ledger(job.id) == []


# -- refund ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [S.FAILED, S.EXPIRED, S.CANCELED])
async def test_released_job_no_longer_counts(store: Store, ending: JobState) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S, guild_daily=JOB_720_5S)
    job = await w.admit()
    assert (await w.refused()).reason == "user_day"
    if ending is S.CANCELED:
        await store.save(job.advance(S.CANCELED, w.clock.now()))
    else:
        await w.end(job, ending)
    await w.admit()


async def test_committed_job_keeps_counting(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S)
    await w.end(await w.admit(), S.DONE)
    assert (await w.refused()).reason == "user_day"


# -- races -----------------------------------------------------------------------------------


async def race(w: World, users: list[int]) -> tuple[list[Job], list[QuotaExceeded]]:
    jobs = [make_job(w.clock, user) for user in users]
    results = await asyncio.gather(*(w.quota.admit(j) for j in jobs), return_exceptions=True)
    admitted = [j for j, r in zip(jobs, results, strict=True) if r is None]
    errors = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(admitted) + len(errors) == len(jobs), results
    return admitted, errors


async def test_two_users_race_for_the_last_guild_credit(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), guild_daily=JOB_720_5S + 100)
    admitted, errors = await race(w, [ALICE, BOB])
    assert len(admitted) == 1
    assert [e.reason for e in errors] == ["guild_day"]
    reserves = [e for e in await store.ledger() if e.kind == "reserve"]
    assert [e.job_id for e in reserves] == [admitted[0].id]


async def test_same_user_races_for_the_last_credit(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), user_daily=JOB_720_5S)
    admitted, errors = await race(w, [ALICE, ALICE, ALICE])
    assert len(admitted) == 1
    assert {e.reason for e in errors} == {"user_day"}


async def test_burst_races_for_the_jobs_cap(store: Store) -> None:
    w = world(store, ts(2024, 6, 1, 12), max_concurrent_per_user=1, max_queued_per_user=1)
    admitted, errors = await race(w, [ALICE] * 6)
    assert len(admitted) == 2
    assert {e.reason for e in errors} == {"too_many_jobs"}


async def test_race_across_two_connections(store: Store, store_url: str) -> None:
    """Two store connections (as two processes would have) still admit only one."""
    second = await open_store(store_url)
    try:
        a = world(store, ts(2024, 6, 1, 12), guild_daily=JOB_720_5S)
        b = world(second, ts(2024, 6, 1, 12), guild_daily=JOB_720_5S)
        jobs = [make_job(a.clock, ALICE), make_job(b.clock, BOB)]
        results = await asyncio.gather(
            a.quota.admit(jobs[0]), b.quota.admit(jobs[1]), return_exceptions=True
        )
        assert sorted(r is None for r in results) == [False, True]
        assert [e.reason for e in results if isinstance(e, QuotaExceeded)] == ["guild_day"]
    finally:
        await second.close()


async def test_two_processes_admitting_50_each_never_overshoot(
    store: Store, store_url: str
) -> None:
    """Two independent stores on one database (two processes: separate connections, no shared
    lock in memory) admit 50 requests each, all at once, against one server's limit of 30
    jobs: exactly 30 are admitted, and the ledger holds exactly their reservations."""
    second = await open_store(store_url)
    limit = 30 * JOB_720_5S
    try:
        worlds = [world(s, ts(2024, 6, 1, 12), guild_daily=limit) for s in (store, second)]
        jobs = [(w, make_job(w.clock, user_id=1000 + i)) for i in range(50) for w in worlds]
        results = await asyncio.gather(
            *(w.quota.admit(job) for w, job in jobs), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, QuotaExceeded)]
        assert [r for r in results if r is not None and r not in refused] == []
        assert len(results) - len(refused) == 30
        assert {r.reason for r in refused} == {"guild_day"}
        reserves = [e for e in await second.ledger() if e.kind == "reserve"]
        assert len(reserves) == 30
        assert sum(e.amount for e in reserves) == limit
        for w in worlds:
            [day, _] = (await w.quota.summary(GUILD, ALICE)).guild or ()
            assert day.spent == limit
    finally:
        await second.close()


@pytest.mark.postgres
async def test_concurrent_summaries_never_exhaust_the_pool(pg_server: PgServer) -> None:
    """A summary reads grants inside its transaction: on a pool of two connections, eight at
    once (each waiting for the admission lock on one) must still all finish."""
    store = await PostgresStore.open(await pg_server.emptied_url(), max_connections=2)
    try:
        w = world(store, ts(2024, 6, 1, 12), user_daily=10 * JOB_720_5S)
        await w.admit()
        summaries = asyncio.gather(*(w.quota.summary(GUILD, ALICE) for _ in range(8)))
        for summary in await asyncio.wait_for(summaries, 30):
            assert summary.user[0].spent == JOB_720_5S
    finally:
        await store.close()


# -- summary ---------------------------------------------------------------------------------


async def test_summary(store: Store) -> None:
    w = world(
        store,
        ts(2024, 6, 10, 12),
        user_daily=2000,
        user_monthly=20000,
        guild_daily=None,
        guild_monthly=50000,
    )
    w.clock.t = ts(2024, 6, 9, 12)  # yesterday: counts for the month only
    await w.end(await w.admit(), S.DONE)
    w.clock.t = ts(2024, 6, 10, 12)
    await store.add_grant(GUILD, ALICE, 500, at=w.clock.now(), by=BOB)
    running = await w.admit()
    await store.save(running.advance(S.SUBMITTING, w.clock.now()))
    await w.admit()  # queued
    await w.end(await w.admit(), S.FAILED)  # released: not counted
    await w.admit(BOB)

    s = await w.quota.summary(GUILD, ALICE)
    day, month = s.user
    assert (day.period, day.spent, day.limit, day.remaining) == ("day", 1260, 2500, 1240)
    assert day.resets_at == ts(2024, 6, 11)
    assert (month.period, month.spent, month.limit) == ("month", 1890, 20500)
    assert month.resets_at == ts(2024, 7, 1)
    assert s.guild is not None
    g_day, g_month = s.guild
    assert (g_day.spent, g_day.limit, g_day.remaining) == (1890, None, None)
    assert (g_month.spent, g_month.limit, g_month.remaining) == (2520, 50000, 47480)
    assert g_month.resets_at == ts(2024, 7, 1)
    assert (s.running, s.queued) == (1, 1)


async def test_summary_in_direct_messages(store: Store) -> None:
    w = world(store, ts(2024, 6, 10, 12), user_daily=JOB_720_5S)
    await w.admit(ALICE, None)
    s = await w.quota.summary(None, ALICE)
    assert s.guild is None
    assert s.user[0].remaining == 0
    assert (s.running, s.queued) == (0, 1)


async def test_summary_reflects_role_overrides(store: Store) -> None:
    w = world(store, ts(2024, 6, 10, 12), user_daily=JOB_720_5S)
    await w.policy.set_limit(GUILD, "role:11", "day", -1)
    s = await w.quota.summary(GUILD, ALICE, [11])
    assert s.user[0].limit is None
    assert s.user[0].remaining is None
