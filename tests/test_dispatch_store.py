"""The dispatcher's shared state in the store, on both backends: the global cap of active API
tasks, the per-user cap, the fair order and last-served times hold across two processes (two
store connections, two runners), and queue positions come from the whole queue."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hh_bot.access.policy import Policy
from hh_bot.access.quota import Quota
from hh_bot.jobs.model import Job, JobParams, JobState, ReplyTarget
from hh_bot.jobs.polling import PollPlanner
from hh_bot.jobs.runner import Runner, RunnerConfig
from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store
from tests.core_world import LEASE, core_world
from tests.fakes.recording_delivery import RecordingDelivery
from tests.waiting import eventually

S = JobState
T0 = 1_700_000_000.0
_ids = itertools.count()


def make_job(user_id: int, at: float) -> Job:
    return Job(
        id=f"j{next(_ids):03d}",
        user_id=user_id,
        guild_id=100,
        params=JobParams("a horse", ("https://x/a.png",), ("image 1",), "720P", 5, "16:9", False),
        reply=ReplyTarget(10, 20, "tok", at + 900),
        cost=630,
        created_at=at,
        updated_at=at,
    )


async def queue(store: Store, *jobs: Job) -> list[str]:
    for job in jobs:
        async with store.transaction() as tx:
            await tx.insert_job(job)
    return [j.id for j in jobs]


async def test_the_global_cap_holds_across_two_processes(store: Store, store_url: str) -> None:
    second = await open_store(store_url)
    try:
        mine = await queue(store, *(make_job(u, T0 + u) for u in range(1, 6)))
        theirs = await queue(second, *(make_job(u, T0 + u) for u in range(6, 11)))

        async def claim(s: Store, ids: list[str]) -> Job | None:
            return await s.claim_next(ids, global_cap=3, per_user_cap=1, now=T0 + 60)

        claims = await asyncio.gather(
            *(claim(store, mine) for _ in range(6)), *(claim(second, theirs) for _ in range(6))
        )
        claimed = [c for c in claims if c is not None]
        assert len(claimed) == 3
        assert all(c.state is S.SUBMITTING for c in claimed)
        assert await store.active_count() == await second.active_count() == 3
        assert await claim(store, mine) is None and await claim(second, theirs) is None

        # a task that completes (leaves running) frees its slot for either process
        done = claimed[0].advance(S.RUNNING, T0 + 61, task_id="t").advance(S.DOWNLOADING, T0 + 62)
        await store.save(done)
        assert await store.active_count() == 2
        assert await claim(second, theirs) is not None or await claim(store, mine) is not None
        assert await second.active_count() == 3
    finally:
        await second.close()


async def test_the_per_user_cap_counts_every_process(store: Store, store_url: str) -> None:
    second = await open_store(store_url)
    try:
        mine = await queue(store, make_job(1, T0), make_job(1, T0 + 1))
        theirs = await queue(second, make_job(1, T0 + 2), make_job(2, T0 + 3))
        first = await store.claim_next(mine, global_cap=10, per_user_cap=1, now=T0 + 10)
        assert first is not None and first.id == mine[0]
        other = await second.claim_next(theirs, global_cap=10, per_user_cap=1, now=T0 + 11)
        assert other is not None and other.id == theirs[1]  # user 1 is busy in the first
        assert await store.claim_next(mine, global_cap=10, per_user_cap=1, now=T0 + 12) is None
    finally:
        await second.close()


async def test_fair_order_and_last_served_are_shared(store: Store, store_url: str) -> None:
    """A burst of one user waits behind users not yet served, whichever process queued them;
    the order is the same seen from both processes."""
    second = await open_store(store_url)
    try:
        burst = await queue(store, *(make_job(1, T0 + i) for i in range(3)))
        [late] = await queue(second, make_job(2, T0 + 10))
        assert await store.queue_order() == [burst[0], late, burst[1], burst[2]]
        claimed = await store.claim_next(burst, global_cap=10, per_user_cap=10, now=T0 + 20)
        assert claimed is not None and claimed.id == burst[0]
        # user 1 was served just now (by the first process): user 2 goes first everywhere
        assert await second.queue_order() == [late, burst[1], burst[2]]
        assert await store.queue_order() == await second.queue_order()
        claimed = await second.claim_next([late], global_cap=10, per_user_cap=10, now=T0 + 21)
        assert claimed is not None and claimed.id == late
        assert await store.queue_order() == [burst[1], burst[2]]
    finally:
        await second.close()


async def test_a_claimed_or_ended_job_is_not_claimed_again(store: Store) -> None:
    ids = await queue(store, make_job(1, T0), make_job(2, T0 + 1))
    claimed = await store.claim_next(ids, global_cap=10, per_user_cap=10, now=T0 + 5)
    assert claimed is not None
    job = await store.get_job(ids[1])
    assert job is not None
    await store.save(job.advance(S.CANCELED, T0 + 6))
    assert await store.claim_next(ids, global_cap=10, per_user_cap=10, now=T0 + 7) is None
    assert await store.queue_order() == []


async def test_two_runners_on_one_database_share_the_global_cap(
    tmp_path: Path, store_url: str
) -> None:
    """Two runners (as two bot processes would have) on one database, each with its own store
    connection and its own jobs, never have more than the global cap of tasks at the API, and
    each delivers its own jobs."""
    config = RunnerConfig(global_cap=2, per_user_cap=2, lease_length=LEASE)
    async with core_world(tmp_path, config=config, store_url=store_url) as w:
        store = await open_store(store_url)
        delivery = RecordingDelivery()
        other = Runner(
            store=store,
            api=w.api,
            delivery=delivery,
            clock=w.clock,
            planner=PollPlanner(),
            config=config,
            tmp_dir=tmp_path / "videos-2",
        )
        policy = Policy(store, w.settings.limits, w.settings.defaults)
        quota = Quota(store, policy, w.settings, w.clock)
        await other.start()
        try:
            mine = [await w.submit(user_id=1) for _ in range(3)]
            theirs = []
            for user in (2, 3, 4):
                job = w.make_job(user_id=user)
                await quota.admit(job)
                await other.enqueue(job)
                theirs.append(job)

            async def all_done() -> bool:
                jobs = [await w.store.get_job(j.id) for j in [*mine, *theirs]]
                return all(j is not None and j.state is S.DONE for j in jobs)

            await eventually(all_done, timeout=60, what="every job to be delivered")
            assert len(w.fake.creates()) == 6
            assert w.fake.max_active <= 2
            assert {d.job.id for d in delivery.delivered} == {j.id for j in theirs}
        finally:
            await other.stop()
            await store.close()
