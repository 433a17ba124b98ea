-- V8: where a job came from (issue #10): the job it iterates on (parent_id), how it was made
-- (origin: command | menu | retry | remix | continue; NULL on older rows reads as command), and
-- for "Make video" jobs the message its images came from, so expired attachment URLs can be
-- fetched fresh from that message. BIGINT: the same SQL on both backends.
ALTER TABLE jobs ADD COLUMN parent_id TEXT;
ALTER TABLE jobs ADD COLUMN origin TEXT;
ALTER TABLE jobs ADD COLUMN source_channel_id BIGINT;
ALTER TABLE jobs ADD COLUMN source_message_id BIGINT;
