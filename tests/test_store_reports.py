"""The store's report queries on both backends: the month chart's rows and the streamed ledger
export (``csv_parts`` over ``Store.ledger_lines``), whose sums match the usage report."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hh_bot.reports.export import csv_parts
from hh_bot.store import spend
from hh_bot.store.interface import Store
from hh_bot.store.sqlite import SqliteStore
from tests.test_store import T0, S, finish, insert, make_job

DAY = 86400.0


async def test_spend_by_day_sums_charged_per_day_and_member(store: Store) -> None:
    jobs = [
        make_job("a1", user_id=1, cost=630, created_at=T0 + 10),
        make_job("a2", user_id=1, cost=700, created_at=T0 + 20),
        make_job("a3", user_id=1, cost=900, created_at=T0 + DAY),
        make_job("b1", user_id=2, cost=2000, created_at=T0 + 40),
        make_job("failed", user_id=2, cost=5000, created_at=T0 + 50),
        make_job("open", user_id=2, cost=5000, created_at=T0 + 60),
        make_job("elsewhere", user_id=1, guild_id=999, cost=5000, created_at=T0 + 70),
    ]
    await insert(store, *jobs)
    for job in jobs[:4] + jobs[6:]:
        await store.save(finish(job, S.DONE))
    await store.save(finish(jobs[4], S.FAILED))
    day0 = dt.datetime.fromtimestamp(T0, dt.UTC).date()
    day1 = day0 + dt.timedelta(days=1)

    rows = await store.spend_by_day(100, T0, T0 + 2 * DAY)
    assert rows == [(day0, 1, 1330), (day0, 2, 2000), (day1, 1, 900)]
    assert await store.spend_by_day(100, T0, T0 + 2 * DAY, user_id=2) == [(day0, 2, 2000)]
    assert await store.spend_by_day(100, T0 + 3 * DAY, T0 + 4 * DAY) == []


async def test_export_sums_to_the_usage_report(store: Store) -> None:
    jobs = [make_job(f"j{n}", user_id=1 + n % 3, cost=630 + n, created_at=T0 + n) for n in range(9)]
    await insert(store, *jobs)
    for n, job in enumerate(jobs):
        if n % 4 != 3:  # every fourth stays reserved
            await store.save(finish(job, S.DONE if n % 2 == 0 else S.FAILED))

    report = await store.usage_report(100, T0, T0 + DAY)
    parts = [p async for p in csv_parts(store.ledger_lines(100, T0, T0 + DAY, page=4))]
    assert len(parts) == 1 and parts[0].rows == len(await store.ledger())
    assert parts[0].charged_milli == sum(r.committed for r in report)
    assert parts[0].possibly_billed_milli == sum(r.possibly_billed for r in report)
    small = [p async for p in csv_parts(store.ledger_lines(100, T0, T0 + DAY), max_bytes=400)]
    assert len(small) >= 2
    assert all(p.data.startswith(b"job,user,time,what,charged,possibly_billed\r\n") for p in small)
    assert sum(p.rows for p in small) == parts[0].rows
    assert sum(p.charged_milli for p in small) == parts[0].charged_milli


async def test_an_export_of_100000_rows_is_read_page_by_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hh.sqlite3"
    await (await SqliteStore.open(path)).close()  # create and migrate
    jobs = 50_000
    with sqlite3.connect(path) as db:  # inserted directly: fast, and no job model needed
        db.executemany(
            "INSERT INTO jobs (id, user_id, guild_id, state, params, reply, cost, charge,"
            " created_at, updated_at) VALUES (?, ?, 100, 'done', '{}', '{}', 630, 'committed',"
            " ?, ?)",
            ((f"j{n}", n % 7, T0 + n, T0 + n) for n in range(jobs)),
        )
        db.executemany(
            "INSERT INTO ledger (job_id, user_id, guild_id, kind, amount, at, prompt)"
            " VALUES (?, ?, 100, ?, 630, ?, 'p')",
            ((f"j{n}", n % 7, kind, T0 + n) for n in range(jobs) for kind in ("reserve", "commit")),
        )
    store = await SqliteStore.open(path)
    try:
        pages = 0
        read = spend.ledger_page

        async def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal pages
            pages += 1
            return await read(*args, **kwargs)

        monkeypatch.setattr(spend, "ledger_page", counting)
        stream = csv_parts(store.ledger_lines(100, T0, T0 + DAY, page=1000), max_bytes=256 * 1024)
        first = await anext(stream)
        assert first.rows > 0
        assert pages <= first.rows // 1000 + 2, "the first part read only the pages it needed"
        rows, charged = first.rows, first.charged_milli
        async for part in stream:
            rows += part.rows
            charged += part.charged_milli
            assert len(part.data) <= 256 * 1024
        assert rows == 2 * jobs and charged == 630 * jobs
        assert pages == 2 * jobs // 1000 + 1
    finally:
        await store.close()


async def test_moderation_refusals_are_read_from_the_jobs_that_ended_in_one(store: Store) -> None:
    at_create = make_job("m1", user_id=1, created_at=T0)
    by_task = make_job("m2", user_id=1, created_at=T0 + 10)
    other_failure = make_job("m3", user_id=1, created_at=T0 + 20)
    elsewhere = make_job("m4", user_id=1, guild_id=999, created_at=T0 + 30)
    someone_else = make_job("m5", user_id=2, created_at=T0 + 40)
    await insert(store, at_create, by_task, other_failure, elsewhere, someone_else)
    submitted = at_create.advance(S.SUBMITTING, T0 + 1)
    await store.save(submitted.advance(S.FAILED, T0 + 2, error_kind="ModerationBlocked"))
    ran = finish(by_task, S.FAILED, T0 + 100)
    await store.save(replace(ran, error_kind="TaskFailed", error_detail="DataInspectionFailed"))
    failed = finish(other_failure, S.FAILED, T0 + 200)
    await store.save(replace(failed, error_kind="TaskFailed", error_detail="InternalError"))
    for job in (elsewhere, someone_else):
        blocked = job.advance(S.SUBMITTING, T0 + 300)
        await store.save(blocked.advance(S.FAILED, T0 + 301, error_kind="ModerationBlocked"))

    assert await store.moderation_refusals(100, 1, T0) == [T0 + 2, T0 + 100]
    assert await store.moderation_refusals(100, 1, T0 + 50) == [T0 + 100]
    assert await store.moderation_refusals(999, 1, T0) == [T0 + 301]


async def test_purge_member_scrubs_content_and_keeps_amounts(store: Store) -> None:
    done = make_job("p1", user_id=1, prompt="secret words one")
    failed = make_job("p2", user_id=1, prompt="secret words two", created_at=T0 + 5)
    running = make_job("p3", user_id=1, prompt="still running", created_at=T0 + 6)
    elsewhere = make_job("p4", user_id=1, guild_id=999, prompt="other server")
    bob = make_job("p5", user_id=2, prompt="bob's own")
    await insert(store, done, failed, running, elsewhere, bob)
    await store.save(finish(done, S.DONE))
    await store.save(finish(failed, S.FAILED))
    await store.save(finish(bob, S.DONE))
    before = await store.usage_report(100, T0, T0 + DAY)

    purged = await store.purge_member(100, 1, 0)
    assert (sorted(purged.jobs), purged.running) == (["p1", "p2"], 1)
    after = await store.usage_report(100, T0, T0 + DAY)
    assert sum(r.committed for r in after) == sum(r.committed for r in before)
    assert sum(r.possibly_billed for r in after) == sum(r.possibly_billed for r in before)
    assert sum(r.reserved for r in after) == sum(r.reserved for r in before)
    for job_id in ("p1", "p2"):
        job = await store.get_job(job_id)
        assert job is not None and job.user_id == 0
        assert (job.params.prompt, job.params.image_urls, job.params.image_labels) == ("", (), ())
        assert job.reply.interaction_token == ""
        assert {e.user_id for e in await store.ledger(job_id)} == {0}
    kept = {j: await store.get_job(j) for j in ("p3", "p4", "p5")}
    assert [k.params.prompt for k in kept.values() if k] == [
        "still running", "other server", "bob's own",
    ]  # fmt: skip
    lines = [line async for line in store.ledger_lines(100, T0, T0 + DAY)]
    assert {line.user for line in lines if line.job in ("p1", "p2")} == {0}
