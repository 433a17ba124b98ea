-- V6: job leases, so that every job is driven by exactly one bot process at a time
-- (hh_bot/store/leases.py): who drives the job and until when (clock seconds) unless renewed.
-- NULL holder: nobody drives it (queued and not yet handed to a runner, or released).
ALTER TABLE jobs ADD COLUMN lease_holder TEXT;
ALTER TABLE jobs ADD COLUMN lease_until DOUBLE PRECISION;
CREATE INDEX jobs_lease_holder ON jobs (lease_holder);
