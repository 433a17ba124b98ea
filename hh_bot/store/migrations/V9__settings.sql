-- V8: each member's own defaults for /video (/settings): one small JSON document per user,
-- the same on every server (hh_bot/access/settings.py). Server rules need no table: they live
-- with the other server policy in settings (scope guild:<id>, key rules).
CREATE TABLE user_settings (
    user_id BIGINT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
