-- name: CreateJob :one
INSERT INTO jobs (id, name, schedule, tasks, paused, misfire, overlap, labels, secret, next_fire_at, schedule_anchor,
                  rate, max_in_flight)
VALUES (@id, @name, @schedule, @tasks, @paused, @misfire, @overlap, @labels, @secret, @next_fire_at, @schedule_anchor,
        @rate, @max_in_flight)
RETURNING *;

-- name: GetJob :one
SELECT * FROM jobs WHERE id = @id AND deleted_at IS NULL;

-- name: ListJobs :many
-- Newest first; ids are UUIDv7, so id order is creation order.
SELECT * FROM jobs
WHERE deleted_at IS NULL
  AND (sqlc.narg('before')::uuid IS NULL OR id < sqlc.narg('before')::uuid)
ORDER BY id DESC
LIMIT @max_rows;

-- name: DeleteJob :one
UPDATE jobs SET deleted_at = now(), updated_at = now(), next_fire_at = NULL
WHERE id = @id AND deleted_at IS NULL
RETURNING id;


-- name: AdvanceJob :exec
-- Records a handled tick: the next tick, and the ticks missed or skipped.
UPDATE jobs SET
    next_fire_at = @next_fire_at,
    missed_ticks = missed_ticks + @missed,
    skipped_ticks = skipped_ticks + @skipped
WHERE id = @id;

-- name: UpdateJob :one
-- Replaces a job's definition and re-arms its schedule (fire_seq + 1).
UPDATE jobs SET
    name = @name, schedule = @schedule, tasks = @tasks, paused = @paused,
    misfire = @misfire, overlap = @overlap, labels = @labels,
    rate = @rate, max_in_flight = @max_in_flight,
    next_fire_at = @next_fire_at, schedule_anchor = @schedule_anchor,
    fire_seq = fire_seq + 1, updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SetJobPaused :one
-- Pauses or resumes a job. Changing the state re-arms the schedule
-- (fire_seq + 1): the pending tick of a paused job is ignored, and resuming
-- enqueues its tick anew. next_fire_at stays, so that a resumed job knows
-- which ticks it missed.
UPDATE jobs SET
    paused = @paused,
    fire_seq = fire_seq + CASE WHEN paused = @paused THEN 0 ELSE 1 END,
    updated_at = CASE WHEN paused = @paused THEN updated_at ELSE now() END
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: LockJob :one
-- The job as it is now, locked until the transaction ends: taken when a tick
-- fires and when a run ends, so that an update, a delete, the overlap check
-- and the start of a queued run happen one at a time per job.
SELECT * FROM jobs WHERE id = @id FOR UPDATE;

-- name: GetJobAny :one
-- A job, deleted or not (its runs outlive it).
SELECT * FROM jobs WHERE id = @id;
