"""One migration sequence for both backends: the files, the upgrade of a database the code
before them made, the same schema on SQLite and PostgreSQL, and processes migrating at once."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from hh_bot.jobs.model import Job, JobParams, JobState, ReplyTarget
from hh_bot.store.conn import numbered
from hh_bot.store.factory import open_store
from hh_bot.store.leases import LEASE_COLUMNS
from hh_bot.store.migrate import DIALECTS, FOLDER, migrations, split_statements
from hh_bot.store.rows import INSERT_JOB, JOB_FIELDS, job_values
from hh_bot.store.sqlite import SqliteStore
from tests.legacy_schema import LEGACY_MIGRATIONS
from tests.pg_server import PgServer

T0 = 1_700_000_000.0
TABLES = ("jobs", "ledger", "grants", "settings", "notices", "billing", "served", "shard_claims")


def job(job_id: str, user_id: int = 1, guild_id: int | None = 100) -> Job:
    return Job(
        id=job_id,
        user_id=user_id,
        guild_id=guild_id,
        params=JobParams("a horse", ("https://x/a.png",), ("image 1",), "720P", 5, "16:9", False),
        reply=ReplyTarget(10, 20, "tok", T0 + 900),
        cost=630,
        created_at=T0,
        updated_at=T0,
    )


def _normal(sql: str) -> str:
    return " ".join(sql.replace("(", " ( ").replace(")", " ) ").split())


# -- the files ---------------------------------------------------------------------------------


def test_both_dialects_have_the_same_versions() -> None:
    sequences = {d: migrations(d) for d in DIALECTS}
    versions = {d: [(m.version, m.name) for m in s] for d, s in sequences.items()}
    assert versions["sqlite"] == versions["postgres"]
    assert [v for v, _ in versions["sqlite"]] == list(range(1, len(versions["sqlite"]) + 1))
    assert len(versions["sqlite"]) > len(LEGACY_MIGRATIONS)  # the upgrade test adds a version


def test_sqlite_files_hold_the_released_statements() -> None:
    """A released migration is never edited: the SQLite files are the statements the code
    before them ran, so databases it made continue where they are."""
    released_files = migrations("sqlite")[: len(LEGACY_MIGRATIONS)]
    for migration, released in zip(released_files, LEGACY_MIGRATIONS, strict=True):
        assert [_normal(s) for s in migration.statements] == [_normal(s) for s in released]


def test_split_statements_drops_comments_and_splits_at_line_ends() -> None:
    text = "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a (x);"
    assert split_statements(text) == ("CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a (x)")


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (["V1__a.sql", "V3__c.sql"], "1..n"),
        (["V1__a.sqlite.sql"], "lacks a dialect"),
        (["V1__a.sql", "V1__a.postgres.sql"], "both shared and per dialect"),
        (["V1__a.sql", "V2__b.mysql.sql"], "not named"),
        (["1_a.sql"], "not named"),
    ],
)
def test_a_broken_sequence_is_refused(tmp_path: Path, files: list[str], problem: str) -> None:
    for name in files:
        (tmp_path / name).write_text("CREATE TABLE t (x TEXT);\n")
    with pytest.raises(ValueError, match=problem):
        migrations("sqlite", tmp_path)


def test_every_file_in_the_folder_is_a_migration() -> None:
    names = {p.name for p in FOLDER.iterdir()} - {"README.md"}
    assert names and all(n.startswith("V") and n.endswith(".sql") for n in names)


def test_placeholders_are_numbered_for_postgres() -> None:
    sql = "SELECT a FROM t WHERE b = ? AND c IN (?, ?) AND d = 'x'"
    assert numbered(sql) == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) AND d = 'x'"
    with pytest.raises(ValueError, match="string literal"):
        numbered("SELECT '?' FROM t WHERE a = ?")


# -- a database made by the code before the migration files ------------------------------------


def make_legacy_database(path: Path) -> None:
    """What the code of commit d771e6b left on disk: version 4, a job of each kind, a ledger,
    settings, a grant, a pending notice and a billing row."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
    for version, statements in enumerate(LEGACY_MIGRATIONS, start=1):
        con.execute("BEGIN IMMEDIATE")
        for statement in statements:
            con.execute(statement)
        con.execute("INSERT INTO schema_version VALUES (?)", (version,))
        con.execute("COMMIT")
    assert INSERT_JOB.count("?") == len(JOB_FIELDS)
    # the job columns that code had: those added since (at the end of JOB_FIELDS) come later
    legacy = JOB_FIELDS[: JOB_FIELDS.index("video_facts")]
    insert_job = f"INSERT INTO jobs ({', '.join(legacy)}) VALUES ({', '.join('?' * len(legacy))})"
    done = job("done").advance(JobState.SUBMITTING, T0 + 1)
    done = done.advance(JobState.RUNNING, T0 + 2, task_id="t1").advance(JobState.DELIVERING, T0 + 3)
    done = done.advance(JobState.DONE, T0 + 4, result_message_id=77, result_channel_id=5)
    failed = job("failed", user_id=2).advance(JobState.FAILED, T0 + 5, error_kind="TaskFailed")
    con.execute(insert_job, job_values(done, "committed")[: len(legacy)])
    con.execute(insert_job, job_values(failed, "released")[: len(legacy)])
    con.execute(insert_job, job_values(job("open", guild_id=None), "reserved")[: len(legacy)])
    ledger = "INSERT INTO ledger (job_id, user_id, guild_id, kind, amount, at, prompt) VALUES "
    con.execute(ledger + "('done', 1, 100, 'reserve', 630, ?, 'a horse')", (T0,))
    con.execute(ledger + "('done', 1, 100, 'commit', 630, ?, 'a horse')", (T0 + 4,))
    con.execute(ledger + "('failed', 2, 100, 'reserve', 630, ?, 'a horse')", (T0,))
    con.execute(ledger + "('failed', 2, 100, 'release', 630, ?, 'a horse')", (T0 + 5,))
    con.execute(ledger + "('open', 1, NULL, 'reserve', 630, ?, 'a horse')", (T0,))
    con.execute("INSERT INTO billing VALUES ('done', 1, 100, 630, ?, 'delivered')", (T0 + 4,))
    con.execute("INSERT INTO settings VALUES ('guild:100', 'limits', ?)", (json.dumps({"a": 1}),))
    con.execute(
        "INSERT INTO grants (guild_id, user_id, amount, at, granted_by) VALUES (100, 1, 500, ?, 9)",
        (T0,),
    )
    con.execute("INSERT INTO notices VALUES ('failed', ?, ?)", (json.dumps({"k": "x"}), T0 + 5))
    con.close()


async def test_a_database_of_the_previous_code_upgrades_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    make_legacy_database(path)
    store = await open_store(f"sqlite:///{path}")
    try:
        assert await store.schema_version() == len(migrations("sqlite"))
        done = await store.get_job("done")
        assert done is not None and done.state is JobState.DONE and done.result_channel_id == 5
        assert [j.id for j in await store.unfinished_jobs()] == ["open"]
        kinds = [(e.job_id, e.kind) for e in await store.ledger()]
        assert kinds[:2] == [("done", "reserve"), ("done", "commit")] and len(kinds) == 5
        assert await store.billed("done") == "delivered"
        assert await store.get_setting("guild:100", "limits") == {"a": 1}
        assert await store.granted(100, 1, T0) == 500
        [(noticed, notice)] = await store.pending_notices()
        assert (noticed.id, notice) == ("failed", {"k": "x"})
        # and it goes on working: the open job settles once
        opened = await store.get_job("open")
        assert opened is not None
        await store.save(opened.advance(JobState.CANCELED, T0 + 9))
        assert [e.kind for e in await store.ledger("open")] == ["reserve", "release"]
    finally:
        await store.close()


async def test_the_upgraded_schema_is_the_schema_of_a_new_database(tmp_path: Path) -> None:
    old, new = tmp_path / "old.sqlite3", tmp_path / "new.sqlite3"
    make_legacy_database(old)
    for path in (old, new):
        await (await SqliteStore.open(path)).close()
    schemas = []
    for path in (old, new):
        with sqlite3.connect(path) as con:
            rows = con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
            schemas.append([(t, n, _normal(s or "")) for t, n, s in rows])
    assert schemas[0] == schemas[1]


# -- PostgreSQL --------------------------------------------------------------------------------


async def _pg_columns(url: str) -> dict[str, list[str]]:
    con = await asyncpg.connect(url)
    try:
        rows = await con.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
    finally:
        await con.close()
    columns: dict[str, list[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], []).append(row["column_name"])
    return columns


@pytest.mark.postgres
async def test_postgres_has_the_tables_and_columns_of_sqlite(
    pg_server: PgServer, tmp_path: Path
) -> None:
    url = await pg_server.fresh_url()
    await (await open_store(url)).close()
    pg = await _pg_columns(url)
    path = tmp_path / "hh.sqlite3"
    await (await SqliteStore.open(path)).close()
    with sqlite3.connect(path) as con:
        lite = {
            t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
            for t in (*TABLES, "schema_version")
        }
    assert pg == lite
    # (columns added after V6 follow the lease ones)
    assert sorted(pg["jobs"]) == sorted([*JOB_FIELDS, *LEASE_COLUMNS])


@pytest.mark.postgres
async def test_postgres_keeps_discord_ids_and_times_exact(pg_server: PgServer) -> None:
    """Snowflakes need 64 bits and times double precision (PostgreSQL's INTEGER and REAL
    would overflow or round them)."""
    store = await open_store(await pg_server.fresh_url())
    try:
        big = job("big", user_id=1_234_567_890_123_456_789, guild_id=987_654_321_098_765_432)
        big = big.with_changes(T0 + 0.123456, result_message_id=2**62, result_channel_id=2**62 + 1)
        async with store.transaction() as tx:
            await tx.insert_job(big)
        assert await store.get_job("big") == big
    finally:
        await store.close()


@pytest.mark.postgres
async def test_processes_starting_together_migrate_once(pg_server: PgServer) -> None:
    url = await pg_server.fresh_url()
    stores = await asyncio.gather(*(open_store(url) for _ in range(3)))
    try:
        for store in stores:
            assert await store.schema_version() == len(migrations("postgres"))
    finally:
        for store in stores:
            await store.close()
    con = await asyncpg.connect(url)
    try:
        versions = [r[0] for r in await con.fetch("SELECT version FROM schema_version")]
    finally:
        await con.close()
    assert sorted(versions) == list(range(1, len(migrations("postgres")) + 1))
