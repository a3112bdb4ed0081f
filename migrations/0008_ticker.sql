-- Ticks are no longer River jobs: every working replica claims due ticks
-- straight from the jobs table (next_fire_at, FOR UPDATE SKIP LOCKED), many
-- per transaction. The job row is the only record of its next tick, so there
-- is no stale tick to tell apart, and fire_seq goes.
CREATE INDEX jobs_due ON jobs (next_fire_at)
    WHERE next_fire_at IS NOT NULL AND deleted_at IS NULL AND NOT paused;
ALTER TABLE jobs DROP COLUMN fire_seq;
