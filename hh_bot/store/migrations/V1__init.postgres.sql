-- V1: jobs, the ledger (reserve / commit / release, once each per job), grants, settings.
-- PostgreSQL: 64-bit Discord ids and amounts, double-precision times, identity keys.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    guild_id BIGINT,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    reply TEXT NOT NULL,
    cost BIGINT NOT NULL,
    charge TEXT NOT NULL CHECK (charge IN ('reserved', 'committed', 'released')),
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    task_id TEXT,
    progress INTEGER NOT NULL DEFAULT 0,
    submitted_at DOUBLE PRECISION,
    completed_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    result_url TEXT,
    result_message_id BIGINT,
    error_kind TEXT,
    error_detail TEXT
);
CREATE INDEX jobs_user ON jobs (user_id, created_at);
CREATE INDEX jobs_guild ON jobs (guild_id, created_at);
CREATE INDEX jobs_state ON jobs (state);
CREATE TABLE ledger (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    user_id BIGINT NOT NULL,
    guild_id BIGINT,
    kind TEXT NOT NULL CHECK (kind IN ('reserve', 'commit', 'release')),
    amount BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    prompt TEXT NOT NULL
);
CREATE UNIQUE INDEX ledger_once ON ledger (job_id, kind);
CREATE TABLE grants (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id BIGINT,
    user_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    granted_by BIGINT NOT NULL
);
CREATE TABLE settings (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
