-- V2: a failure notice still owed to the user, stored with the job's final state so a crash
-- between ending a job and telling its owner is told on the next start (once it is told,
-- the row goes).
CREATE TABLE notices (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id),
    error TEXT NOT NULL,
    at REAL NOT NULL
);
