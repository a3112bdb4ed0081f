-- name: FleetDevices :many
-- The devices a fleet selector matches (every label of @selector), by id;
-- for the tick of a device-local schedule (the run names its zones), those
-- in the zones whose local time it is.
SELECT d.id FROM devices d, runs r
WHERE r.id = @run_id AND d.labels @> @selector::jsonb
  AND (r.device_zones IS NULL OR d.timezone = ANY(r.device_zones))
ORDER BY d.id;

-- name: DeviceZones :many
-- The zones of the devices any of @selectors (a JSON array of label
-- objects) matches, with their counts: where a device-local job ticks.
SELECT timezone, count(*)::int AS devices FROM devices
WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(@selectors::jsonb) s WHERE devices.labels @> s.value)
GROUP BY timezone
ORDER BY timezone;

-- name: CreateMembers :exec
-- The members of a fleet task, waiting for their waves: @spec is the task's
-- definition with a device target, whose device each member fills in.
INSERT INTO task_runs (id, run_id, task_id, spec, state, pending_parents, child_ids, keep_result, fleet_of, device_id, wave)
SELECT m.id, @run_id, @task_id,
       jsonb_set(@spec::jsonb, '{target,device}', to_jsonb(m.d::text))::json,
       'waiting', 0, '{}'::uuid[], false, @fleet_of::uuid, m.d, m.w
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@device_ids::uuid[]) AS d, unnest(@waves::int[]) AS w) AS m;

-- name: CreateRollout :exec
INSERT INTO rollouts (task_run_id, run_id, sizes) VALUES (@task_run_id, @run_id, @sizes::int[]);

-- name: StartFleetTask :exec
-- The fleet task runs while its rollout does: it makes no request itself.
UPDATE task_runs SET state = 'running', started_at = coalesce(started_at, now()) WHERE id = @id;

-- name: LockRollout :one
-- A rollout under its row lock, with its fleet task's state and definition
-- and its job's flow limits (for the members' deliveries).
SELECT r.*, t.state AS task_state, t.spec, ru.job_id, ru.scheduled_for, j.rate, j.max_in_flight
FROM rollouts r
JOIN task_runs t ON t.id = r.task_run_id
JOIN runs ru ON ru.id = r.run_id
JOIN jobs j ON j.id = ru.job_id
WHERE r.task_run_id = @task_run_id
FOR UPDATE OF r;

-- name: FleetTask :one
-- A fleet task as the recorder settles it.
SELECT t.id, t.run_id, t.task_id, t.spec, t.child_ids, t.keep_result,
       r.job_id, r.scheduled_for, r.trigger, j.overlap
FROM task_runs t JOIN runs r ON r.id = t.run_id JOIN jobs j ON j.id = r.job_id
WHERE t.id = @id;

-- name: RolloutCounts :many
-- A fleet's members by wave and state.
SELECT wave::int AS wave, state, count(*)::int AS n
FROM task_runs WHERE fleet_of = @fleet_of::uuid
GROUP BY wave, state;

-- name: SendWaves :many
-- Sends the members waiting in the waves up to @upto (a wave starting, or
-- those a pause held or an abort cancelled, on resume): pending, in a new
-- round, so that a delivery of theirs from before is ignored.
UPDATE task_runs SET state = 'pending', round = round + 1, last_error = NULL, finished_at = NULL
WHERE fleet_of = @fleet_of::uuid AND wave <= @upto::int AND state = 'waiting'
RETURNING id, spec, round;

-- name: HoldMembers :execrows
-- A pause: members enqueued and not begun wait for the resume.
UPDATE task_runs SET state = 'waiting'
WHERE fleet_of = @fleet_of::uuid AND state = 'pending';

-- name: CancelMembers :execrows
-- An abort: members not sent end cancelled with the reason (those in
-- flight finish).
UPDATE task_runs SET state = 'cancelled', last_error = @reason::text, finished_at = now()
WHERE fleet_of = @fleet_of::uuid AND state IN ('waiting', 'pending', 'retrying');

-- name: ReviveMembers :execrows
-- Members in @states wait again for their waves: those an abort cancelled,
-- on a resume; those failed or cancelled, on a retry of the run.
UPDATE task_runs SET state = 'waiting', last_error = NULL, finished_at = NULL
WHERE fleet_of = @fleet_of::uuid AND state = ANY(@states::text[]);

-- name: SetStepper :exec
UPDATE rollouts SET stepper = @stepper WHERE task_run_id = @task_run_id;

-- name: UpdateRollout :exec
UPDATE rollouts SET status = @status, started = @started, reason = sqlc.narg('reason'),
    settled_at = sqlc.narg('settled_at'), base_failed = @base_failed, base_targeted = @base_targeted,
    updated_at = now()
WHERE task_run_id = @task_run_id;

-- name: FleetOpenCircuits :one
-- How many of a fleet's devices have their circuit open.
SELECT count(*)::int FROM task_runs t
JOIN endpoints e ON e.host = 'device:' || t.device_id::text
WHERE t.fleet_of = @fleet_of::uuid AND e.state = 'open';

-- name: FleetGoneOffline :one
-- How many of a fleet's devices went offline after @since.
SELECT count(*)::int FROM task_runs t
JOIN devices d ON d.id = t.device_id
WHERE t.fleet_of = @fleet_of::uuid AND NOT d.online AND d.offline_since > @since;

-- name: RolloutsOfRun :many
SELECT r.*, t.task_id FROM rollouts r JOIN task_runs t ON t.id = r.task_run_id
WHERE r.run_id = @run_id ORDER BY t.task_id;

-- name: ListMembers :many
-- A fleet task's members after the cursor (device id), optionally in one
-- state, with their devices' names.
SELECT t.id, t.device_id::uuid AS device_id, coalesce(d.name, '') AS device_name, t.wave::int AS wave,
       t.state, t.attempts, t.last_error, t.started_at, t.finished_at
FROM task_runs t LEFT JOIN devices d ON d.id = t.device_id
WHERE t.fleet_of = @fleet_of::uuid
  AND (sqlc.narg('state')::text IS NULL OR t.state = sqlc.narg('state')::text)
  AND (sqlc.narg('after')::uuid IS NULL OR t.device_id > sqlc.narg('after')::uuid)
ORDER BY t.device_id
LIMIT @max_rows;

-- name: FleetTaskOfRun :one
-- The task run of a run's fleet task (one that has a rollout).
SELECT t.id FROM task_runs t JOIN rollouts r ON r.task_run_id = t.id
WHERE t.run_id = @run_id AND t.task_id = @task_id AND t.fleet_of IS NULL;
