-- V4: what the shared key was possibly billed, apart from what users are charged: a job whose
-- task may have been made and run (a task id came back, or the create's answer was lost)
-- is recorded here when it ends, delivered or not. A table of its own because SQLite can't
-- alter the ledger's CHECK constraint (see hh_bot/store/tx.py).
CREATE TABLE billing (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id),
    user_id BIGINT NOT NULL,
    guild_id BIGINT,
    amount BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX billing_at ON billing (at);
