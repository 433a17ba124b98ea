-- V8: budget alerts already announced (hh_bot/access/alerts.py): one row per server, period
-- (day | month), the period's start (clock seconds) and threshold (percent of the limit). The
-- process whose insert made the row posts the notice (INSERT … ON CONFLICT DO NOTHING), so each
-- goes out once, across restarts and across processes sharing the database. The audit channel
-- itself is a setting (the settings table, scope audit:<guild id>).
CREATE TABLE alert_marks (
    guild_id BIGINT NOT NULL,
    period TEXT NOT NULL,
    period_start DOUBLE PRECISION NOT NULL,
    threshold INTEGER NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (guild_id, period, period_start, threshold)
);
