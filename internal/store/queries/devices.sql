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
WHERE devices.id = h.id;

-- name: RecordHeartbeatsMoved :exec
-- RecordHeartbeats for a batch where some heartbeat names a zone: when a
-- device's zone changes, the device-local jobs are planned again at once
-- (NudgeDeviceLocalJobs), in the same statement.
WITH h AS (
    SELECT unnest(@ids::uuid[]) AS id, unnest(@cpus::float8[]) AS cpu,
           unnest(@memories::float8[]) AS memory, unnest(@queue_depths::int[]) AS queue_depth,
           unnest(@timezones::text[]) AS timezone
), moved AS (
    SELECT 1 FROM devices d JOIN h ON d.id = h.id
    WHERE h.timezone <> '' AND h.timezone <> d.timezone
    LIMIT 1
), beat AS (
    UPDATE devices SET
        online = true, offline_since = NULL, last_heartbeat_at = now(),
        cpu = h.cpu, memory = h.memory, queue_depth = h.queue_depth,
        timezone = coalesce(nullif(h.timezone, ''), devices.timezone)
    FROM h
    WHERE devices.id = h.id
)
UPDATE jobs SET next_fire_at = now()
WHERE EXISTS (SELECT 1 FROM moved)
  AND schedule ->> 'timezone' = 'device' AND deleted_at IS NULL
  AND (next_fire_at IS NULL OR next_fire_at > now());

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

-- name: TriedDevices :many
-- The devices a task run's failed attempts went to: a retry goes to the
-- next-best device.
SELECT DISTINCT device_id::uuid FROM attempts
WHERE task_run_id = @task_run_id AND device_id IS NOT NULL AND outcome IN ('retrying', 'failed');

-- name: LockDevice :exec
-- Serializes the admissions of one device's deliveries, to the end of the
-- transaction.
SELECT pg_advisory_xact_lock(hashtextextended(@lock_key::text, 0));

-- name: CountDeviceLeases :one
SELECT count(*)::int FROM device_leases
WHERE device_id = @device_id AND expires_at > now() AND task_run_id <> @task_run_id;

-- name: TakeDeviceLease :exec
INSERT INTO device_leases (task_run_id, device_id, holder, expires_at)
VALUES (@task_run_id, @device_id, @holder, now() + make_interval(secs => @seconds::float8))
ON CONFLICT (task_run_id) DO UPDATE SET device_id = excluded.device_id, holder = excluded.holder, expires_at = excluded.expires_at;

-- name: ReleaseDeviceLease :exec
DELETE FROM device_leases WHERE task_run_id = @task_run_id AND holder = @holder;

-- name: ReleaseHolderDeviceLeases :execrows
-- Releases the device leases a dead replica held.
DELETE FROM device_leases WHERE holder = @holder;

-- name: DeviceLeaseCounts :many
-- Deliveries in flight per device, across replicas.
SELECT device_id, count(*)::int AS n FROM device_leases WHERE expires_at > now() GROUP BY device_id;

-- name: DeviceCircuits :many
-- The devices whose circuit is open and not yet due for a probe (a due
-- probe makes the device eligible again, for one delivery).
SELECT host FROM endpoints
WHERE state = 'open' AND host LIKE 'device:%' AND (next_probe_at IS NULL OR next_probe_at > now());

-- name: WaitingForDevice :exec
-- Says on a task run why it waits (no device eligible), without an attempt.
UPDATE task_runs SET last_error = @reason WHERE id = @id AND state IN ('pending', 'running', 'retrying');

-- name: LabelKeysInUse :many
-- Which of the given label keys some device carries.
SELECT k::text FROM unnest(@keys::text[]) AS k
WHERE EXISTS (SELECT 1 FROM devices WHERE jsonb_exists(devices.labels, k));

-- name: ExistingDevices :many
SELECT id FROM devices WHERE id = ANY(@ids::uuid[]);
