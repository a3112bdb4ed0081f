-- Recurring schedules: ticks are re-armed with a sequence number, missed and
-- skipped ticks are counted, and runs can wait (queued) or be skipped for an
-- earlier run still in progress.

-- fire_seq changes whenever the job's schedule is re-armed (update, pause,
-- resume); a tick enqueued under an older sequence is ignored.
ALTER TABLE jobs ADD COLUMN fire_seq bigint NOT NULL DEFAULT 0;
-- schedule_anchor is the instant "every" intervals count from.
ALTER TABLE jobs ADD COLUMN schedule_anchor timestamptz;
-- missed_ticks counts ticks that passed while nothing ran (or the job was
-- paused) and were not caught up; skipped_ticks counts ticks skipped because
-- an earlier run was still in progress (overlap).
ALTER TABLE jobs ADD COLUMN missed_ticks bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN skipped_ticks bigint NOT NULL DEFAULT 0;

UPDATE jobs SET schedule_anchor = created_at;

-- Run states now also 'queued' (waits for the previous run, overlap=queue)
-- and 'skipped' (overlap=skip: a record of the tick, no tasks).
CREATE INDEX runs_active_by_job ON runs (job_id, id) WHERE state IN ('running', 'queued');
