-- V3: the channel of the result message (a DM when the reply's channel refused it), so that
-- /jobs links the result where it is; NULL for jobs delivered before (the reply's channel).
ALTER TABLE jobs ADD COLUMN result_channel_id BIGINT;
