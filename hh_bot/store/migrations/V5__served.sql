-- V5: when each user was last served by the dispatcher (the fair queue's bookkeeping), kept in
-- the store so that every bot process on the database orders the queue the same way.
-- BIGINT and DOUBLE PRECISION: the same SQL on both (SQLite reads them as INTEGER and REAL).
CREATE TABLE served (
    user_id BIGINT PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL
);
