"""What the poll planner learned survives a restart: kept in the store, loaded at start, written
once per completed task (never per poll), and a failing store costs the memory, not a job."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hh_bot.app import build_services
from hh_bot.jobs.poll_memory import SCOPE, PollMemory
from hh_bot.jobs.polling import HISTORY, PRIOR_SIGMA, PollPlanner, prior_duration
from hh_bot.store.sqlite import SqliteStore
from tests.bot_world import bot_world
from tests.fakes.happyhorse import TaskScript

LEARNED = [61.0, 58.5, 63.0, 60.0, 59.5, 62.0]


async def test_a_new_planner_on_the_same_store_has_the_belief(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "hh.sqlite3")
    try:
        first = PollPlanner(memory=PollMemory(store))
        for seconds in LEARNED:
            await first.learn("720P", 5, seconds)
        await first.learn("1080P", 10, 250.0)
        belief = first.belief("720P", 5)
        assert belief[0] == pytest.approx(60.5, rel=1e-3)
    finally:
        await store.close()

    store = await SqliteStore.open(tmp_path / "hh.sqlite3")  # a restart: a new process, same file
    try:
        second = PollPlanner(memory=PollMemory(store))
        assert second.belief("720P", 5) == (prior_duration("720P", 5), PRIOR_SIGMA)
        assert await second.recall() == 2
        assert second.belief("720P", 5) == belief
        assert second.history("720P", 5) == LEARNED
        assert second.history("1080P", 10) == [250.0]
        assert second.gap_at(55.0, "720P", 5) <= 10.0  # dense where 60-s tasks finish
        assert await store.settings_in(SCOPE) == {"720P/5": LEARNED, "1080P/10": [250.0]}
    finally:
        await store.close()


class CountingStore:
    """A settings store in memory that counts writes and can be made to fail."""

    def __init__(self, rows: dict[str, Any] | None = None) -> None:
        self.rows: dict[str, Any] = dict(rows or {})
        self.writes = 0
        self.fail: BaseException | None = None

    async def settings_in(self, scope: str) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        assert scope == SCOPE
        return dict(self.rows)

    async def set_setting(self, scope: str, key: str, value: Any) -> None:
        if self.fail is not None:
            raise self.fail
        assert scope == SCOPE
        self.writes += 1
        self.rows[key] = value


async def test_one_write_per_completed_task_and_none_per_poll() -> None:
    store = CountingStore()
    p = PollPlanner(memory=PollMemory(store), rng=random.Random(1))
    for n in range(200):
        p.next_delay(float(n), n, "720P", 5)
    assert store.writes == 0
    for seconds in LEARNED:
        await p.learn("720P", 5, seconds)
    assert store.writes == len(LEARNED)
    await p.learn("720P", 5, float("nan"))  # nothing learned, nothing written
    assert store.writes == len(LEARNED)


async def test_only_the_last_observations_are_kept() -> None:
    store = CountingStore()
    p = PollPlanner(memory=PollMemory(store))
    for n in range(HISTORY + 20):
        await p.learn("720P", 5, 100.0 + n)
    assert len(store.rows["720P/5"]) == HISTORY
    assert store.rows["720P/5"][0] == 120.0


async def test_unreadable_rows_are_skipped() -> None:
    store = CountingStore(
        {
            "720P/5": [60.0, "x", None, True, -3, 0, 1e400, 62.0, 61.0, 59.0, 60.5],
            "720P/x": [1.0],
            "nonsense": [1.0],
            "1080P/5": "not a list",
            "/5": [1.0],
        }
    )
    p = PollPlanner(memory=PollMemory(store))
    assert await p.recall() == 1
    assert p.history("720P", 5) == [60.0, 62.0, 61.0, 59.0, 60.5]
    assert p.expected("720P", 5) == pytest.approx(60.5, rel=1e-3)


@pytest.mark.parametrize(
    "error",
    [sqlite3.OperationalError("database is locked"), OSError(5), ValueError("Connection closed")],
)
async def test_a_failing_store_costs_the_memory_not_the_job(error: BaseException) -> None:
    store = CountingStore({"720P/5": LEARNED})
    store.fail = error
    p = PollPlanner(memory=PollMemory(store))
    assert await p.recall() == 0  # started from the prior
    await p.learn("720P", 5, 60.0)  # not raised: the job goes on
    assert p.history("720P", 5) == [60.0]


async def test_the_bot_keeps_what_it_learned_across_a_restart(tmp_path: Path) -> None:
    """End to end: five /video jobs over the fake Discord against 60-second tasks; the bot's
    process ends; a new one on the same database starts with the learned belief, so it
    polls the next such task around 60 s, not around the prior's 115 s. A gentle clock (×40:
    100 ms of scheduler delay is 4 s of task time) keeps the learned figure far from 115 s
    however busy the machine."""
    async with bot_world(tmp_path, script=TaskScript(duration=60.0), factor=40.0) as w:
        writes: list[str] = []
        store = w.services.store
        real_set = store.set_setting

        async def counting_set(scope: str, key: str, value: Any) -> None:
            if scope == SCOPE:
                writes.append(key)
            await real_set(scope, key, value)

        store.set_setting = counting_set  # type: ignore[method-assign]
        handles = [await w.video(user=w.add_member(f"m{i}")) for i in range(5)]
        for handle in handles:
            message = await w.outcome(handle)
            assert [a.data for a in message.attachments] == [w.hh.video_bytes]
        learned = w.services.planner.belief("720P", 5)
        history = w.services.planner.history("720P", 5)
        assert writes == ["720P/5"] * 5, "one write per completed task"
        assert len(w.hh.polls()) > len(writes), "and none per poll"
    assert learned[0] < 0.8 * prior_duration("720P", 5)

    async with bot_world(tmp_path, script=TaskScript(duration=60.0), factor=40.0) as w:
        planner = w.services.planner
        assert planner.history("720P", 5) == [round(s, 2) for s in history]
        assert planner.belief("720P", 5) == pytest.approx(learned, rel=1e-3)
        assert planner.gap_at(50.0, "720P", 5) <= 10.0  # dense where 60-s tasks finish
        assert PollPlanner().gap_at(50.0, "720P", 5) == 20.0  # the prior: still sparse there


async def test_services_start_with_the_stored_belief(tmp_path: Path) -> None:
    from tests.bot_world import settings_for
    from tests.fakes.happyhorse import FakeHappyHorse

    hh = FakeHappyHorse()
    hh.base_url = "http://127.0.0.1:9"
    store = await SqliteStore.open(tmp_path / "hh.sqlite3")
    await store.set_setting(SCOPE, "720P/5", LEARNED)
    await store.close()
    services = await build_services(settings_for(tmp_path, hh), tmp_dir=tmp_path / "videos")
    try:
        assert services.planner.history("720P", 5) == LEARNED
    finally:
        await services.close()
