-- name: RegisterReplica :one
-- Registers a process as alive (again, for one that was declared dead).
INSERT INTO replicas (id, role, host, pid, pid_namespace, version, timeout_ms)
VALUES (@id, @role, @host, @pid, @pid_namespace, @version, @timeout_ms)
ON CONFLICT (id) DO UPDATE SET
    state = 'alive', heartbeat_at = clock_timestamp(), timeout_ms = excluded.timeout_ms,
    ended_at = NULL, reclaimed_by = NULL, reclaimed = 0
RETURNING heartbeat_at;

-- name: Heartbeat :one
-- A live replica's heartbeat; no row when it has been declared dead (or
-- its registration is gone). Returns the database's clock.
UPDATE replicas SET
    heartbeat_at = clock_timestamp(),
    working = @working, in_flight = @in_flight,
    clock_offset_ms = sqlc.narg(clock_offset_ms)
WHERE id = @id AND state = 'alive'
RETURNING heartbeat_at;

-- name: ExpirePredecessors :many
-- Marks as dead at once (heartbeat 'epoch') the live registrations of
-- processes on this host and PID namespace whose pid is in @gone (checked
-- by the caller: no such process any more). A restarted replica's
-- predecessor is thereby reclaimed without waiting for its timeout.
UPDATE replicas SET heartbeat_at = 'epoch'
WHERE state = 'alive' AND host = @host AND pid_namespace = @pid_namespace
  AND pid_namespace <> '' AND pid = ANY(@gone::int[]) AND id <> @id
RETURNING id;

-- name: SameHostReplicas :many
-- The live registrations of other processes on this host and PID namespace.
SELECT id, pid FROM replicas
WHERE state = 'alive' AND host = @host AND pid_namespace = @pid_namespace
  AND pid_namespace <> '' AND id <> @id;

-- name: ClaimDeadReplica :one
-- Declares one dead worker replica (silent past its own timeout, or known
-- dead) and takes the right to reclaim it: the row lock and the state
-- change make that exactly one survivor, however many look. Replicas that
-- fell silent are only judged by a survivor that has itself heartbeated
-- without a break for longer than their timeout (@healthy_ms), so that a
-- database outage, which silences everyone, is not taken for deaths.
UPDATE replicas SET state = 'dead', ended_at = now(), reclaimed_by = @reclaimer::text
WHERE id = (
    SELECT r.id FROM replicas r
    WHERE r.state = 'alive' AND r.id <> @reclaimer::text
      AND (r.heartbeat_at = 'epoch'
           OR (r.timeout_ms < @healthy_ms::int AND r.heartbeat_at < now() - make_interval(secs => r.timeout_ms / 1000.0)))
    ORDER BY r.heartbeat_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, role, host, heartbeat_at = 'epoch' AS known_dead;

-- name: SetReclaimed :exec
UPDATE replicas SET reclaimed = @reclaimed WHERE id = @id;

-- name: StopReplica :exec
-- A clean exit.
UPDATE replicas SET state = 'stopped', ended_at = now(), working = 0, in_flight = 0
WHERE id = @id AND state = 'alive';

-- name: ForgetReplicas :exec
-- Registrations of processes gone for longer than @keep are deleted.
DELETE FROM replicas WHERE state <> 'alive' AND ended_at < now() - make_interval(secs => @keep_seconds::float8);

-- name: ListReplicas :many
-- Live replicas first, then the others, newest first.
SELECT r.*, now()::timestamptz AS db_now FROM replicas r
ORDER BY (r.state = 'alive') DESC, r.started_at DESC, r.id
LIMIT @max_rows;

-- name: ReleaseHolderLeases :execrows
-- Releases the max_in_flight leases a dead replica held.
DELETE FROM job_leases WHERE holder = @holder;

-- name: LoseAttempts :many
-- For reclaimed deliveries: records each attempt that had begun (its task
-- run running with that attempt) as lost and puts its task run back to
-- pending; returns every task run's latest attempt number and state (as
-- before this statement) and whether its attempt was lost here.
WITH input AS (
    SELECT unnest(@ids::uuid[]) AS id, unnest(@attempts::int[]) AS attempt,
           unnest(@started_ats::timestamptz[]) AS started_at
), lost AS (
    UPDATE task_runs SET state = 'pending'
    FROM input
    WHERE task_runs.id = input.id
      AND task_runs.state = 'running' AND task_runs.attempts = input.attempt
    RETURNING task_runs.id, input.attempt, input.started_at
), rec AS (
    INSERT INTO attempts (task_run_id, attempt, started_at, duration_ms, outcome, error)
    SELECT lost.id, lost.attempt, lost.started_at,
           greatest(0, extract(epoch FROM now() - lost.started_at) * 1000), 'lost', @error::text
    FROM lost
    ON CONFLICT (task_run_id, attempt) DO NOTHING
)
SELECT t.id, t.attempts, t.state, (t.id IN (SELECT id FROM lost))::bool AS lost -- a hashed subplan
FROM task_runs t
WHERE t.id = ANY(@ids::uuid[]);

-- name: DatabaseClock :one
-- PostgreSQL's clock, read by a statement that writes nothing: nothing
-- (a commit, a row lock) stands between the reading and the answer, so its
-- round trip bounds the clock offset tightly (internal/replica's probe).
SELECT clock_timestamp()::timestamptz AS now;
