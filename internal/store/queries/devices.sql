-- name: CreateDevice :one
INSERT INTO devices (id, name, labels, url, capacity, timezone, token_hash, token_prefix)
VALUES (@id, @name, @labels, sqlc.narg(url), @capacity, @timezone, @token_hash, @token_prefix)
RETURNING *;

-- name: GetDevice :one
SELECT * FROM devices WHERE id = @id;

-- name: ListDevices :many
-- Newest first, after the cursor, optionally those carrying every label of
-- @labels (a JSON object).
SELECT * FROM devices
WHERE (sqlc.narg(before)::uuid IS NULL OR id < sqlc.narg(before)::uuid)
  AND labels @> @labels::jsonb
ORDER BY id DESC
LIMIT @max_rows;

-- name: UpdateDevice :one
UPDATE devices SET name = @name, labels = @labels, url = sqlc.narg(url), capacity = @capacity,
    timezone = @timezone, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeleteDevice :execrows
DELETE FROM devices WHERE id = @id;

-- name: DeviceByTokenHash :one
SELECT id FROM devices WHERE token_hash = @token_hash;

-- name: RecordHeartbeats :exec
-- Many devices' heartbeats in one statement (the last of a device's in a
-- batch wins). A heartbeat brings an offline device back online.
UPDATE devices SET
    online = true, offline_since = NULL, last_heartbeat_at = now(),
    cpu = h.cpu, memory = h.memory, queue_depth = h.queue_depth,
    timezone = coalesce(nullif(h.timezone, ''), devices.timezone)
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@cpus::float8[]) AS cpu,
             unnest(@memories::float8[]) AS memory, unnest(@queue_depths::int[]) AS queue_depth,
             unnest(@timezones::text[]) AS timezone) h
WHERE devices.id = ANY(@ids::uuid[]) AND devices.id = h.id;

-- name: PoolDevices :many
-- Every device, for placement snapshots; online is judged by the database's
-- clock against @timeout_seconds.
SELECT id, name, labels, url, capacity, timezone, cpu, memory, queue_depth,
       (online AND last_heartbeat_at > now() - make_interval(secs => @timeout_seconds::float8))::bool AS live,
       last_heartbeat_at
FROM devices;

-- name: DeclareDevicesOffline :many
-- Declares offline the devices silent past the timeout, once each (row
-- locks, SKIP LOCKED: any number of replicas may sweep), so that what was
-- placed on them is reclaimed in the same transaction.
UPDATE devices SET online = false, offline_since = now()
WHERE id IN (
    SELECT d.id FROM devices d
    WHERE d.online AND d.last_heartbeat_at < now() - make_interval(secs => @timeout_seconds::float8)
    ORDER BY d.last_heartbeat_at
    LIMIT @max_rows
    FOR UPDATE SKIP LOCKED
)
RETURNING id, name;
