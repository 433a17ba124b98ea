-- V1: jobs, the ledger (reserve / commit / release, once each per job), grants, settings.
CREATE TABLE jobs (
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
);
CREATE INDEX jobs_user ON jobs (user_id, created_at);
CREATE INDEX jobs_guild ON jobs (guild_id, created_at);
CREATE INDEX jobs_state ON jobs (state);
CREATE TABLE ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    user_id INTEGER NOT NULL,
    guild_id INTEGER,
    kind TEXT NOT NULL CHECK (kind IN ('reserve', 'commit', 'release')),
    amount INTEGER NOT NULL,
    at REAL NOT NULL,
    prompt TEXT NOT NULL
);
CREATE UNIQUE INDEX ledger_once ON ledger (job_id, kind);
CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER,
    user_id INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    at REAL NOT NULL,
    granted_by INTEGER NOT NULL
);
CREATE TABLE settings (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
