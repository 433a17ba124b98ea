"""The schema as the code before the store interface made it (hh_bot/store/migrations.py of
commit d771e6b), frozen here so a test can build such a database and upgrade it."""

from __future__ import annotations

LEGACY_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL,
            guild_id INTEGER,
            state TEXT NOT NULL,
            params TEXT NOT NULL,
            reply TEXT NOT NULL,
            cost INTEGER NOT NULL,
            charge TEXT NOT NULL CHECK (charge IN ('reserved', 'committed', 'released')),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            task_id TEXT,
            progress INTEGER NOT NULL DEFAULT 0,
            submitted_at REAL,
            completed_at REAL,
            finished_at REAL,
            result_url TEXT,
            result_message_id INTEGER,
            error_kind TEXT,
            error_detail TEXT
        )""",
        "CREATE INDEX jobs_user ON jobs (user_id, created_at)",
        "CREATE INDEX jobs_guild ON jobs (guild_id, created_at)",
        "CREATE INDEX jobs_state ON jobs (state)",
        """CREATE TABLE ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT NOT NULL REFERENCES jobs (id),
            user_id INTEGER NOT NULL,
            guild_id INTEGER,
            kind TEXT NOT NULL CHECK (kind IN ('reserve', 'commit', 'release')),
            amount INTEGER NOT NULL,
            at REAL NOT NULL,
            prompt TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX ledger_once ON ledger (job_id, kind)",
        """CREATE TABLE grants (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER,
            user_id INTEGER NOT NULL,
            amount INTEGER NOT NULL,
            at REAL NOT NULL,
            granted_by INTEGER NOT NULL
        )""",
        """CREATE TABLE settings (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        )""",
    ],
    # 2: a failure notice still owed to the user, stored with the job's final state so a crash
    # between ending a job and telling its owner is told on the next start (once it is told,
    # the row goes).
    [
        """CREATE TABLE notices (
            job_id TEXT PRIMARY KEY REFERENCES jobs (id),
            error TEXT NOT NULL,
            at REAL NOT NULL
        )""",
    ],
    # 3: the channel of the result message (a DM when the reply's channel refused it), so that
    # /jobs links the result where it is; NULL for jobs delivered before (the reply's channel).
    [
        "ALTER TABLE jobs ADD COLUMN result_channel_id INTEGER",
    ],
    # 4: what the shared key was possibly billed, apart from what users are charged: a job whose
    # task may have been made and run (a task id came back, or the create's answer was lost)
    # is recorded here when it ends, delivered or not. A table of its own because SQLite can't
    # alter the ledger's CHECK constraint (see ``hh_bot/store/tx.py``).
    [
        """CREATE TABLE billing (
            job_id TEXT PRIMARY KEY REFERENCES jobs (id),
            user_id INTEGER NOT NULL,
            guild_id INTEGER,
            amount INTEGER NOT NULL,
            at REAL NOT NULL,
            reason TEXT NOT NULL
        )""",
        "CREATE INDEX billing_at ON billing (at)",
    ],
]
