"""Job leases: every job is driven by exactly one process at a time.

The store's side on both backends (exclusive, expiring, the fence on saves, take-over that never
hands one job to two scanners), then two real runners on one PostgreSQL against the fake
HappyHorse: twenty jobs created, delivered and charged once each; and a runner frozen past its
leases (its clock, API calls and lease renewal suspended, as SIGSTOP would) whose jobs the
other takes over within the lease length, and which, thawed, delivers nothing twice; a job a
dead process left submitting, ended "unknown outcome" without a create; leases given up after a
lease length without renewal.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest

from hh_bot.access.policy import Policy
from hh_bot.access.quota import Quota
from hh_bot.api.client import CreateRequest, HappyHorseClient, TaskStatus
from hh_bot.clock import Clock, ScaledClock
from hh_bot.jobs.leasing import JobLeases
from hh_bot.jobs.model import Job, JobParams, JobState, ReplyTarget
from hh_bot.jobs.polling import PollPlanner
from hh_bot.jobs.runner import Runner, RunnerConfig
from hh_bot.store.factory import open_store
from hh_bot.store.interface import DRIVER, LeaseLost, Store
from tests.core_world import LEASE, CoreWorld, core_world
from tests.fakes.happyhorse import TaskScript
from tests.fakes.recording_delivery import RecordingDelivery
from tests.pg_server import PgServer
from tests.waiting import eventually

S = JobState
T0 = 1_700_000_000.0
_ids = itertools.count()
T = TypeVar("T")


def make_job(user_id: int, at: float) -> Job:
    return Job(
        id=f"l{next(_ids):03d}",
        user_id=user_id,
        guild_id=100,
        params=JobParams("a horse", ("https://x/a.png",), ("image 1",), "720P", 5, "16:9", False),
        reply=ReplyTarget(10, 20, "tok", at + 900),
        cost=630,
        created_at=at,
        updated_at=at,
    )


async def insert(store: Store, *jobs: Job) -> list[str]:
    for job in jobs:
        async with store.transaction() as tx:
            await tx.insert_job(job)
    return [j.id for j in jobs]


async def as_driver(holder: str, action: Callable[[], Awaitable[T]]) -> T:
    """Run ``action`` in a task driving jobs for ``holder`` (as a runner's job task does)."""

    async def driven() -> T:
        DRIVER.set(holder)
        return await action()

    return await asyncio.create_task(driven())


# -- the store -----------------------------------------------------------------------------------


async def test_a_lease_is_exclusive_until_it_expires(store: Store) -> None:
    [job_id] = await insert(store, make_job(1, T0))
    assert await store.take_lease(job_id, "a", now=T0, until=T0 + 100) is not None
    assert await store.take_lease(job_id, "b", now=T0 + 99, until=T0 + 199) is None
    assert await store.take_lease(job_id, "a", now=T0 + 99, until=T0 + 199) is not None  # ours
    assert await store.renew_leases("a", until=T0 + 250) == {job_id}
    assert await store.take_lease(job_id, "b", now=T0 + 249, until=T0 + 300) is None
    taken = await store.take_lease(job_id, "b", now=T0 + 250, until=T0 + 350)  # expired
    assert taken is not None and taken.id == job_id
    assert await store.renew_leases("a", until=T0 + 400) == set()  # "a" learns it lost it
    assert not await store.holds_lease(job_id, "a", until=T0 + 400)
    assert await store.holds_lease(job_id, "b", until=T0 + 400)
    await store.release_leases("b", [job_id])
    assert await store.take_lease(job_id, "a", now=T0 + 300, until=T0 + 400) is not None


async def test_a_stale_holder_cannot_save_the_job(store: Store) -> None:
    """The fence: a process frozen past its lease fails at its next write of the job."""
    [job_id] = await insert(store, make_job(1, T0))
    job = await store.take_lease(job_id, "a", now=T0, until=T0 + 100)
    assert job is not None
    assert await store.take_lease(job_id, "b", now=T0 + 100, until=T0 + 200) is not None
    stale = job.advance(S.FAILED, T0 + 101, error_kind="TaskFailed")
    with pytest.raises(LeaseLost):
        await as_driver("a", lambda: store.save(stale))
    kept = await store.get_job(job_id)
    assert kept is not None and kept.state is S.QUEUED
    assert [e.kind for e in await store.ledger(job_id)] == ["reserve"]
    await as_driver("b", lambda: store.save(job.advance(S.SUBMITTING, T0 + 102)))
    saved = await store.get_job(job_id)
    assert saved is not None and saved.state is S.SUBMITTING


async def test_free_jobs_are_taken_over_but_not_fresh_queued_ones(store: Store) -> None:
    """Expired leases and unleased started jobs are free; a queued job without a lease is
    only an orphan after a lease length (its admitting process is about to take it)."""
    leased, fresh, orphan = await insert(
        store, make_job(1, T0), make_job(2, T0 + 50), make_job(3, T0 + 1)
    )
    assert await store.take_lease(leased, "a", now=T0, until=T0 + 100) is not None

    async def scan(now: float) -> set[str]:
        jobs = await store.take_free_leases(
            "b", now=now, until=now + 100, orphaned_before=now - 100, at_start=False
        )
        return {j.id for j in jobs}

    assert await scan(T0 + 60) == set()
    assert await scan(T0 + 101) == {leased, orphan}  # expired; queued for more than a lease
    assert await scan(T0 + 151) == {fresh}
    assert await store.renew_leases("b", until=T0 + 300) == {leased, fresh, orphan}


@pytest.fixture
async def pg_url(pg_server: PgServer) -> str:
    return await pg_server.emptied_url()


@pytest.mark.postgres
async def test_concurrent_scans_split_the_free_jobs(pg_url: str) -> None:
    """``FOR UPDATE SKIP LOCKED``: two processes scanning at once take disjoint sets."""
    first, second = await open_store(pg_url), await open_store(pg_url)
    try:
        ids = set(await insert(first, *(make_job(u, T0) for u in range(40))))

        async def scan(store: Store, holder: str) -> set[str]:
            got: set[str] = set()
            while jobs := await store.take_free_leases(
                holder, now=T0 + 500, until=T0 + 600, orphaned_before=T0 + 400, at_start=False
            ):
                got |= {j.id for j in jobs}
            return got

        taken = await asyncio.gather(
            scan(first, "a"), scan(second, "b"), scan(first, "c"), scan(second, "d")
        )
        assert set().union(*taken) == ids
        assert sum(len(x) for x in taken) == len(ids)
    finally:
        await first.close()
        await second.close()


# -- two runners on one PostgreSQL ----------------------------------------------------------------


class Freeze:
    """What SIGSTOP does to a process, for the parts of a runner that move on their own: its
    clock's sleeps (polling waits, lease renewal) and its API calls don't return while frozen."""

    def __init__(self) -> None:
        self._thawed = asyncio.Event()
        self._thawed.set()

    def freeze(self) -> None:
        self._thawed.clear()

    def thaw(self) -> None:
        self._thawed.set()

    async def gate(self) -> None:
        await self._thawed.wait()


class FrozenClock:
    def __init__(self, inner: Clock, freeze: Freeze) -> None:
        self._inner, self._freeze = inner, freeze

    def now(self) -> float:
        return self._inner.now()

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
        await self._freeze.gate()


class FrozenApi:
    def __init__(self, inner: HappyHorseClient, freeze: Freeze) -> None:
        self._inner, self._freeze = inner, freeze

    async def create(self, req: CreateRequest) -> str:
        await self._freeze.gate()
        task_id = await self._inner.create(req)
        await self._freeze.gate()
        return task_id

    async def poll(self, task_id: str) -> TaskStatus:
        await self._freeze.gate()
        status = await self._inner.poll(task_id)
        await self._freeze.gate()
        return status

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        await self._freeze.gate()
        return await self._inner.download(url, dest, max_bytes=max_bytes)


class SecondProcess:
    """A second runner (as a second bot process has) on the world's database, with its own
    store connection, delivery and admission, and its own (freezable) clock and API."""

    def __init__(self, w: CoreWorld, store: Store, config: RunnerConfig) -> None:
        self.freeze = Freeze()
        self.store = store
        self.delivery = RecordingDelivery()
        self.runner = Runner(
            store=store,
            api=FrozenApi(w.api, self.freeze),
            delivery=self.delivery,
            clock=FrozenClock(w.clock, self.freeze),
            planner=PollPlanner(),
            config=config,
            tmp_dir=w.tmp / "videos-2",
        )
        self.quota = Quota(
            store, Policy(store, w.settings.limits, w.settings.defaults), w.settings, w.clock
        )

    async def submit(self, job: Job) -> Job:
        await self.quota.admit(job)
        await self.runner.enqueue(job)
        return job


async def _states(w: CoreWorld, jobs: list[Job]) -> list[JobState]:
    found = [await w.store.get_job(j.id) for j in jobs]
    return [j.state if j is not None else S.FAILED for j in found]


def _assert_each_once(w: CoreWorld, other: SecondProcess, jobs: list[Job]) -> None:
    """Created once, delivered once (by one of the two), charged once, for every job."""
    prompts = Counter(r.json["input"]["prompt"] for r in w.fake.creates() if r.json is not None)
    assert sorted(prompts.values()) == [1] * len(jobs), prompts
    assert set(prompts) == {j.params.prompt for j in jobs}
    delivered = Counter(d.job.id for d in [*w.delivery.delivered, *other.delivery.delivered])
    assert delivered == Counter({j.id: 1 for j in jobs})
    assert w.delivery.failures == [] and other.delivery.failures == []


async def _assert_charged_once(w: CoreWorld, jobs: list[Job]) -> None:
    for job in jobs:
        kinds = sorted(e.kind for e in await w.store.ledger(job.id))
        assert kinds == ["commit", "reserve"], (job.id, kinds)


@pytest.mark.postgres
async def test_two_runners_drive_twenty_jobs_once_each(tmp_path: Path, pg_url: str) -> None:
    # A lease that outlives a loaded machine's scheduling delays (the default 120 s is 0.3 s
    # of real time at core_world's 400x): this test is about sharing, not takeover.
    config = RunnerConfig(global_cap=4, per_user_cap=2, lease_length=LEASE)
    async with core_world(tmp_path, config=config, store_url=pg_url) as w:
        other = SecondProcess(w, await open_store(pg_url), config)
        await other.runner.start()
        try:
            jobs = []
            for i in range(20):
                job = w.make_job(user_id=1 + i % 7, prompt=f"job {i}: character1 walks")
                jobs.append(await (w.submit(job) if i % 2 else other.submit(job)))

            async def all_done() -> bool:
                return all(s is S.DONE for s in await _states(w, jobs))

            await eventually(all_done, timeout=120, what="all twenty jobs delivered")
            _assert_each_once(w, other, jobs)
            await _assert_charged_once(w, jobs)
            assert w.fake.max_active <= 4
            assert w.delivery.delivered and other.delivery.delivered  # both drove jobs
        finally:
            await other.runner.stop()
            await other.store.close()


async def _holders(url: str) -> dict[str, tuple[str | None, float | None]]:
    con = await asyncpg.connect(url)
    try:
        rows = await con.fetch("SELECT id, lease_holder, lease_until FROM jobs")
    finally:
        await con.close()
    return {r["id"]: (r["lease_holder"], r["lease_until"]) for r in rows}


@pytest.mark.postgres
async def test_a_runner_frozen_past_its_leases_is_taken_over_and_delivers_nothing_twice(
    tmp_path: Path, pg_url: str
) -> None:
    lease = 120.0
    config = RunnerConfig(global_cap=20, per_user_cap=20, lease_length=lease)
    script = TaskScript(duration=200.0)
    async with core_world(tmp_path, config=config, store_url=pg_url, script=script, factor=50) as w:
        frozen = SecondProcess(w, await open_store(pg_url), config)
        await frozen.runner.start()
        try:
            theirs = [
                await frozen.submit(w.make_job(user_id=i, prompt=f"frozen {i}: character1"))
                for i in range(10)
            ]
            mine = [
                await w.submit(w.make_job(user_id=20 + i, prompt=f"live {i}: character1"))
                for i in range(10)
            ]

            async def all_running() -> bool:
                return all(s is S.RUNNING for s in await _states(w, [*theirs, *mine]))

            await eventually(all_running, timeout=60, what="every task created")
            frozen.freeze.freeze()
            frozen_at = w.clock.now()
            before = await _holders(pg_url)
            expiry = min(before[j.id][1] or 0.0 for j in theirs)
            assert all(before[j.id][0] == frozen.runner.lease_holder for j in theirs)

            async def taken_over() -> float | None:
                holders = await _holders(pg_url)
                mine_now = all(holders[j.id][0] != frozen.runner.lease_holder for j in theirs)
                return w.clock.now() if mine_now else None

            took_over_at = await eventually(taken_over, timeout=60, what="the take-over")
            took = took_over_at - frozen_at
            print(f"take-over {took:.0f} s after the freeze (lease {lease:.0f} s)")
            assert took_over_at >= expiry, "a live lease was taken"
            assert took <= lease * (1 + 2 * 0.25), "take-over within a lease and a renewal"

            async def all_done() -> bool:
                return all(s is S.DONE for s in await _states(w, [*theirs, *mine]))

            await eventually(all_done, timeout=60, what="every job delivered by the live one")
            frozen.freeze.thaw()  # SIGCONT: its tasks wake, poll, and find the lease gone

            async def stopped() -> bool:
                return frozen.runner.idle.is_set() and frozen.runner.active_count == 0

            await eventually(stopped, timeout=60, what="the thawed runner to stop its jobs")
            _assert_each_once(w, frozen, [*theirs, *mine])
            assert frozen.delivery.delivered == []
            await _assert_charged_once(w, [*theirs, *mine])
            assert len(w.fake.creates()) == 20
        finally:
            frozen.freeze.thaw()
            await frozen.runner.stop()
            await frozen.store.close()


@pytest.mark.postgres
async def test_a_job_left_submitting_by_a_dead_process_ends_unknown_never_created_twice(
    tmp_path: Path, pg_url: str
) -> None:
    """A process died between claiming a job and storing its task id: the create may or may
    not have reached the API. The survivor leaves the live lease alone at its start, takes the
    job over once the lease expired, and ends it "unknown outcome", as a restart does: no
    create is sent."""
    lease = 120.0
    config = RunnerConfig(lease_length=lease)
    async with core_world(tmp_path, config=config, store_url=pg_url) as w:
        job = w.make_job(user_id=1)
        await w.quota.admit(job)
        now = w.clock.now()
        claimed = await w.store.claim_next(
            [job.id], global_cap=8, per_user_cap=2, now=now, holder="dead", lease_until=now + lease
        )
        assert claimed is not None and claimed.state is S.SUBMITTING
        await w.restart()  # a start while the dead process's lease is still live
        assert (await _holders(pg_url))[job.id][0] == "dead"
        w.clock.advance(lease)

        async def ended() -> Job | None:
            stored = await w.store.get_job(job.id)
            return stored if stored is not None and stored.state.final else None

        final = await eventually(ended, timeout=30, what="the take-over to end the job")
        assert final.state is S.FAILED and final.error_kind == "UnknownOutcome"
        await w.delivery.wait_outcomes(1)
        assert [j.id for j, _ in w.delivery.failures] == [job.id]
        assert w.fake.creates() == []
        assert await w.store.billed(job.id) == "unknown_outcome"


class UnreachableRenewal:
    """A store whose lease renewals fail (the database unreachable from this process)."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def renew_leases(self, holder: str, *, until: float) -> set[str]:
        raise ConnectionError("database unreachable")


async def test_leases_not_renewed_for_a_lease_length_are_given_up(store: Store) -> None:
    """Not knowing for a whole lease length is losing: another process may have them now."""
    clock = ScaledClock(400.0)
    ids = await insert(store, make_job(1, clock.now()), make_job(2, clock.now()))
    started = clock.now()  # no renewal from here on
    leases = JobLeases(UnreachableRenewal(store), clock, 120.0)  # type: ignore[arg-type]
    for job_id in ids:
        assert await leases.take(job_id) is not None
    lost: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()

    async def taken(jobs: list[Job]) -> None:
        raise AssertionError(f"nothing to take over: {jobs}")

    keeping = asyncio.create_task(leases.keep(lost.set_result, taken))
    try:
        assert await asyncio.wait_for(lost, 30) == set(ids)
        assert clock.now() >= started + 120.0
        assert not leases.surely_holds(ids[0])
    finally:
        keeping.cancel()
