-- name: CreateJob :one
INSERT INTO jobs (id, name, schedule, tasks, paused, misfire, overlap, labels, secret, next_fire_at, schedule_anchor,
                  rate, max_in_flight, run_timeout_ms, failure_handled, on_run_end, inbound_secret, device_cursor)
VALUES (@id, @name, @schedule, @tasks, @paused, @misfire, @overlap, @labels, @secret, @next_fire_at, @schedule_anchor,
        @rate, @max_in_flight, @run_timeout_ms, @failure_handled, @on_run_end, @inbound_secret, sqlc.narg(device_cursor))
RETURNING *;

-- name: GetJob :one
SELECT * FROM jobs WHERE id = @id AND deleted_at IS NULL;

-- name: GetJobsVersioned :many
-- The given jobs that exist and are not deleted, each with its row's
-- version (its xmin, as text), for herald_jobs_unchanged to check later.
SELECT sqlc.embed(jobs), jobs.xmin::text AS version
FROM jobs WHERE id = ANY(@ids::uuid[]) AND deleted_at IS NULL;

-- name: ListJobs :many
-- Newest first; ids are UUIDv7, so id order is creation order.
SELECT * FROM jobs
WHERE deleted_at IS NULL
  AND (sqlc.narg('before')::uuid IS NULL OR id < sqlc.narg('before')::uuid)
  AND (sqlc.narg('paused')::bool IS NULL OR paused = sqlc.narg('paused')::bool)
  AND (sqlc.narg('labels')::jsonb IS NULL OR labels @> sqlc.narg('labels')::jsonb)
  AND (sqlc.narg('name')::text IS NULL OR strpos(lower(name), lower(sqlc.narg('name')::text)) > 0)
ORDER BY id DESC
LIMIT @max_rows;

-- name: DeleteJob :one
UPDATE jobs SET deleted_at = now(), updated_at = now(), next_fire_at = NULL
WHERE id = @id AND deleted_at IS NULL
RETURNING id;


-- name: ClaimDueJobs :many
-- The jobs whose next tick is due to be handled: at @now for all, and up to
-- @horizon ahead for those whose overlap allows handling it early. Locked
-- until the transaction ends; rows another replica (or an API update) holds
-- are skipped, so each tick is claimed by one replica. Device-local jobs
-- are claimed at @now only: their ticks are planned from the devices' zones
-- as they are then.
SELECT * FROM jobs
WHERE next_fire_at <= @horizon AND next_fire_at IS NOT NULL AND deleted_at IS NULL AND NOT paused
  AND ((overlap = 'allow' AND (schedule ->> 'timezone') IS DISTINCT FROM 'device') OR next_fire_at <= @now)
ORDER BY next_fire_at
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: AdvanceJobs :exec
-- Records handled ticks: each job's next tick (none where has_next is
-- false), and the ticks missed or skipped.
UPDATE jobs SET
    next_fire_at = CASE WHEN u.has_next THEN u.next_fire_at END,
    missed_ticks = missed_ticks + u.missed,
    skipped_ticks = skipped_ticks + u.skipped
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@has_next::bool[]) AS has_next,
             unnest(@next_fire_ats::timestamptz[]) AS next_fire_at,
             unnest(@missed::bigint[]) AS missed, unnest(@skipped::bigint[]) AS skipped) u
WHERE jobs.id = u.id;

-- name: UpdateJob :one
-- Replaces a job's definition and its next tick. An inbound hook kept
-- enabled keeps its secret; one enabled now takes @new_inbound_secret; one
-- disabled loses its secrets.
UPDATE jobs SET
    name = @name, schedule = @schedule, tasks = @tasks, paused = @paused,
    misfire = @misfire, overlap = @overlap, labels = @labels,
    rate = @rate, max_in_flight = @max_in_flight,
    run_timeout_ms = @run_timeout_ms, failure_handled = @failure_handled, on_run_end = @on_run_end,
    inbound_secret = CASE WHEN @inbound::bool THEN coalesce(inbound_secret, @new_inbound_secret::text) END,
    inbound_previous_secret = CASE WHEN @inbound::bool THEN inbound_previous_secret END,
    inbound_previous_expires_at = CASE WHEN @inbound::bool THEN inbound_previous_expires_at END,
    next_fire_at = @next_fire_at, schedule_anchor = @schedule_anchor, device_cursor = sqlc.narg(device_cursor),
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SetJobPaused :one
-- Pauses or resumes a job. A paused job's ticks are not claimed;
-- next_fire_at stays, so that a resumed job knows which ticks it missed.
UPDATE jobs SET
    paused = @paused,
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

-- name: SetDeviceCursor :exec
-- Records that a device-local job's ticks up to @cursor are handled.
UPDATE jobs SET device_cursor = @cursor WHERE id = @id;

-- name: NudgeDeviceLocalJobs :exec
-- A device may be in a zone the device-local jobs have not planned for
-- (created, its zone or labels changed): each is planned again at once
-- (next_fire_at now; device_cursor keeps what was handled).
UPDATE jobs SET next_fire_at = now()
WHERE schedule ->> 'timezone' = 'device' AND deleted_at IS NULL
  AND (next_fire_at IS NULL OR next_fire_at > now());
