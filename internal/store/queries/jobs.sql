-- name: CreateJob :one
INSERT INTO jobs (id, name, schedule, tasks, paused, misfire, overlap, labels, secret, next_fire_at)
VALUES (@id, @name, @schedule, @tasks, @paused, @misfire, @overlap, @labels, @secret, @next_fire_at)
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

-- name: LockJobForFire :one
-- Taken by the fire worker: the job as it is now, locked until the tick's run
-- is created, so a concurrent update or delete is either before or after it.
SELECT * FROM jobs WHERE id = @id FOR UPDATE;

-- name: SetJobNextFire :exec
UPDATE jobs SET next_fire_at = @next_fire_at WHERE id = @id;
