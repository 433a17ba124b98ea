-- V7: which bot process runs which Discord shards (hh_bot/shards.py), so that two processes
-- started with overlapping SHARD_IDS on one database are refused: one row per shard id, held by
-- a process (holder) until a time (clock seconds) it keeps pushing forward while it runs.
CREATE TABLE shard_claims (
    shard_id INTEGER PRIMARY KEY,
    holder TEXT NOT NULL,
    until DOUBLE PRECISION NOT NULL
);
