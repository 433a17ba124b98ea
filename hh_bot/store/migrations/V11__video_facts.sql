-- V8: what the delivered video really is (duration, resolution, size, audio), measured from the
-- downloaded file, as JSON: the Parameters card shows it; NULL for jobs delivered before.
ALTER TABLE jobs ADD COLUMN video_facts TEXT;
