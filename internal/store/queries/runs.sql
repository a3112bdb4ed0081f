-- name: CreateRun :one
-- A scheduled tick creates at most one run: a second insert for the same
-- (job, scheduled_for) returns no row.
INSERT INTO runs (id, job_id, trigger, state, scheduled_for, finished_at, input, deadline, failure_handled, on_run_end, device_zones)
VALUES (@id, @job_id, @trigger, @state, @scheduled_for,
        CASE WHEN @state::text = 'skipped' THEN now() END, @input, @deadline, @failure_handled, @on_run_end,
        sqlc.narg(device_zones)::text[])
ON CONFLICT (job_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING
RETURNING *;

-- name: CreateTaskRunsFew :exec
-- CreateTaskRuns for a few rows: one statement, where COPY takes three
-- round trips.
INSERT INTO task_runs (id, run_id, task_id, spec, state, pending_parents, child_ids, keep_result, run_if)
SELECT unnest(@ids::uuid[]), @run_id, unnest(@task_ids::text[]), unnest(@specs::json[]),
       unnest(@states::text[]), unnest(@pending_parents::int[]), '{}'::uuid[], unnest(@keep_results::bool[]),
       unnest(@run_ifs::text[]);

-- name: CreateTaskRuns :copyfrom
INSERT INTO task_runs (id, run_id, task_id, spec, state, pending_parents, child_ids, keep_result, run_if)
VALUES (@id, @run_id, @task_id, @spec, @state, @pending_parents, @child_ids, @keep_result, @run_if);

-- name: GetRun :one
SELECT * FROM runs WHERE id = @id;

-- name: ListRuns :many
SELECT * FROM runs
WHERE (sqlc.narg('job_id')::uuid IS NULL OR job_id = sqlc.narg('job_id')::uuid)
  AND (sqlc.narg('state')::text IS NULL OR state = sqlc.narg('state')::text)
  AND (sqlc.narg('from')::timestamptz IS NULL OR created_at >= sqlc.narg('from')::timestamptz)
  AND (sqlc.narg('to')::timestamptz IS NULL OR created_at < sqlc.narg('to')::timestamptz)
  AND (sqlc.narg('before')::uuid IS NULL OR id < sqlc.narg('before')::uuid)
  AND (sqlc.narg('job_labels')::jsonb IS NULL
       OR EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND j.labels @> sqlc.narg('job_labels')::jsonb))
ORDER BY id DESC
LIMIT @max_rows;

-- name: ListTaskRuns :many
-- A run's tasks (a fleet task's members are listed with ListMembers).
SELECT * FROM task_runs WHERE run_id = @run_id AND fleet_of IS NULL ORDER BY task_id;

-- name: ListRunAttempts :many
-- A run's attempts: the rows in attempts, and each task run's successful
-- attempt kept in the task run (migration 0023), which a row of the same
-- number (recorded lost by a reclaim) gives way to.
SELECT a.* FROM attempts a
JOIN task_runs tr ON tr.id = a.task_run_id
WHERE tr.run_id = @run_id AND tr.fleet_of IS NULL AND a.attempt IS DISTINCT FROM tr.ok_attempt
UNION ALL
SELECT tr.id, tr.ok_attempt, tr.ok_started_at, tr.ok_duration_ms, tr.ok_status_code, 'succeeded', NULL,
       tr.ok_response_body, tr.ok_response_truncated, NULL, NULL, NULL
FROM task_runs tr
WHERE tr.run_id = @run_id AND tr.fleet_of IS NULL AND tr.ok_attempt IS NOT NULL
ORDER BY task_run_id, attempt;

-- name: CountActiveRuns :one
SELECT
    count(*) FILTER (WHERE state = 'running')::int AS running,
    count(*) FILTER (WHERE state = 'queued')::int AS queued
FROM runs
WHERE job_id = @job_id AND state IN ('running', 'queued');

-- name: OldestQueuedRun :one
SELECT * FROM runs WHERE job_id = @job_id AND state = 'queued' ORDER BY id LIMIT 1;

-- name: SetRunRunning :exec
-- Starts a queued run: its deadline counts from now.
UPDATE runs SET state = 'running',
    deadline = now() + (SELECT run_timeout_ms FROM jobs WHERE jobs.id = runs.job_id) * interval '1 millisecond'
WHERE runs.id = @id AND state = 'queued';

-- name: LockRun :one
SELECT id FROM runs WHERE id = @id FOR UPDATE;

-- name: CancelTaskRuns :exec
UPDATE task_runs SET state = 'cancelled', finished_at = now(), last_error = @reason::text
WHERE run_id = @run_id AND state IN ('waiting', 'pending', 'running', 'retrying');

-- name: EndRun :one
-- Ends a run; its run-end callback, if it has one, is pending.
UPDATE runs SET state = @state, finished_at = now(),
    callback_state = CASE WHEN on_run_end IS NOT NULL THEN 'pending' END
WHERE id = @id RETURNING *;

-- name: ReopenRun :one
-- A retried run runs again: a new round (its next end calls its callback
-- again, with a new webhook-id), a new deadline from now.
UPDATE runs SET state = 'running', finished_at = NULL, round = round + 1, callback_state = NULL,
    deadline = now() + (SELECT run_timeout_ms FROM jobs WHERE jobs.id = runs.job_id) * interval '1 millisecond'
WHERE runs.id = @id RETURNING *;

-- name: ResetTaskRuns :exec
-- Puts failed tasks of a retried run back: each waits for its parents that
-- have not succeeded, or is pending when none.
UPDATE task_runs SET
    state = u.state, pending_parents = u.pending_parents, failed_parents = 0, round = task_runs.round + 1,
    last_error = NULL, started_at = NULL, finished_at = NULL
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@states::text[]) AS state,
             unnest(@pending_parents::int[]) AS pending_parents) u
WHERE task_runs.id = u.id;

-- name: FailedRunsForReplay :many
SELECT id FROM runs
WHERE state = 'failed'
  AND (sqlc.narg('job_id')::uuid IS NULL OR job_id = sqlc.narg('job_id')::uuid)
  AND (sqlc.narg('from')::timestamptz IS NULL OR created_at >= sqlc.narg('from')::timestamptz)
  AND (sqlc.narg('to')::timestamptz IS NULL OR created_at < sqlc.narg('to')::timestamptz)
  AND (sqlc.narg('job_labels')::jsonb IS NULL
       OR EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND j.labels @> sqlc.narg('job_labels')::jsonb))
ORDER BY id
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: PreparedRuns :many
-- Runs of ticks handled ahead of their time (FireLead) whose time has not
-- come.
SELECT id FROM runs
WHERE job_id = @job_id AND trigger = 'schedule' AND state IN ('running', 'queued') AND scheduled_for > now();

-- name: CreateSoloRuns :many
-- Many single-task runs at once, running (the ticker's ticks, concurrent
-- manual triggers), each with its input (NULL: none), what it takes from its
-- job (CreateRun) and its task run, pending (@task_run_ids, @task_ids and
-- @specs in the order of @ids), in one statement. A tick that already has
-- its run gets no second one, nor a task run: only the runs created are
-- returned.
WITH created AS (
    INSERT INTO runs (id, job_id, trigger, state, scheduled_for, input, deadline, failure_handled, on_run_end)
    SELECT u.id, u.job_id, @trigger::text, 'running', u.scheduled_for, u.input,
           u.scheduled_for + j.run_timeout_ms * interval '1 millisecond', j.failure_handled, j.on_run_end
    FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@job_ids::uuid[]) AS job_id,
                 unnest(@scheduled_fors::timestamptz[]) AS scheduled_for, unnest(@inputs::json[]) AS input) u
    JOIN jobs j ON j.id = u.job_id
    ON CONFLICT (job_id, scheduled_for) WHERE trigger = 'schedule' DO NOTHING
    RETURNING *
), tasks AS (
    INSERT INTO task_runs (id, run_id, task_id, spec, state, pending_parents, child_ids, keep_result)
    SELECT t.id, t.run_id, t.task_id, t.spec, 'pending', 0, '{}'::uuid[], false
    FROM (SELECT unnest(@task_run_ids::uuid[]) AS id, unnest(@ids::uuid[]) AS run_id,
                 unnest(@task_ids::text[]) AS task_id, unnest(@specs::json[]) AS spec) t
    WHERE t.run_id IN (SELECT id FROM created)
)
SELECT * FROM created;

-- name: CreateTriggeredSoloRuns :exec
-- CreateSoloRuns for runs that claim no tick (a batch of manual
-- triggers, jobs.StartRuns): each is created, so nothing comes back, and the statement can
-- go out with the transaction's next one (store.Later) instead of in a
-- round trip of its own. The caller passes what CreateSoloRuns takes from
-- the job (@deadlines, NULL where @has_deadlines is false, @failure_handled
-- and @on_run_ends, from the job rows it read in the same transaction) and
-- @created_at (the database's clock as the replica knows it), so that the
-- runs it answers with are the rows written (jobs.triggeredRun). Jobs read
-- before the transaction are listed in @checked_ids with the versions read
-- (@checked_versions): the statement fails with a serialization failure
-- unless each is still that version (herald_jobs_unchanged).
WITH created AS (
    INSERT INTO runs (id, job_id, trigger, state, scheduled_for, created_at, input, deadline, failure_handled, on_run_end)
    SELECT u.id, u.job_id, @trigger::text, 'running', u.scheduled_for, @created_at::timestamptz, u.input,
           CASE WHEN u.has_deadline THEN u.deadline END, u.failure_handled, u.on_run_end
    FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@job_ids::uuid[]) AS job_id,
                 unnest(@scheduled_fors::timestamptz[]) AS scheduled_for, unnest(@inputs::json[]) AS input,
                 unnest(@deadlines::timestamptz[]) AS deadline, unnest(@has_deadlines::bool[]) AS has_deadline,
                 unnest(@failure_handled::bool[]) AS failure_handled,
                 unnest(@on_run_ends::jsonb[]) AS on_run_end) u
    WHERE herald_jobs_unchanged(@checked_ids::uuid[], @checked_versions::text[])
    RETURNING id
)
INSERT INTO task_runs (id, run_id, task_id, spec, state, pending_parents, child_ids, keep_result)
SELECT t.id, t.run_id, t.task_id, t.spec, 'pending', 0, '{}'::uuid[], false
FROM (SELECT unnest(@task_run_ids::uuid[]) AS id, unnest(@ids::uuid[]) AS run_id,
             unnest(@task_ids::text[]) AS task_id, unnest(@specs::json[]) AS spec) t
WHERE t.run_id IN (SELECT id FROM created);

-- name: LockRuns :exec
-- Locks runs in id order, so that two transactions locking overlapping sets
-- cannot deadlock.
SELECT id FROM runs WHERE id = ANY(@ids::uuid[]) ORDER BY id FOR UPDATE;

-- name: SettleRuns :many
-- Ends each of the runs none of whose tasks is left to run: succeeded when
-- no task ended in a failure (skipped is none), or when the run's job says
-- failure_handled and every task that failed (or expired) has a failure
-- handler that succeeded among its direct children (run_if any_failed or
-- all_done; tasks upstream_failed follow from a failure and do not count,
-- a cancelled task always fails the run); failed otherwise. Its run-end
-- callback, if it has one, is pending. Returns the runs ended.
UPDATE runs SET
    state = CASE
        WHEN NOT EXISTS (
            SELECT 1 FROM task_runs t
            WHERE t.run_id = runs.id AND t.fleet_of IS NULL AND t.state IN ('failed', 'upstream_failed', 'cancelled', 'expired')
        ) THEN 'succeeded'
        WHEN runs.failure_handled AND NOT EXISTS (
            SELECT 1 FROM task_runs t
            WHERE t.run_id = runs.id AND t.fleet_of IS NULL AND (t.state = 'cancelled' OR (t.state IN ('failed', 'expired') AND NOT EXISTS (
                SELECT 1 FROM task_runs h
                WHERE h.id = ANY(t.child_ids) AND h.state = 'succeeded' AND h.run_if <> 'all_succeeded')))
        ) THEN 'succeeded'
        ELSE 'failed' END,
    finished_at = now(),
    callback_state = CASE WHEN on_run_end IS NOT NULL THEN 'pending' END
WHERE id = ANY(@ids::uuid[])
  -- state = 'running', written so that runs_active_by_job cannot serve it
  -- (EndSoloRuns says why).
  AND state NOT IN ('queued', 'skipped', 'succeeded', 'failed', 'cancelled', 'timed_out')
  AND NOT EXISTS (
    SELECT 1 FROM task_runs
    WHERE task_runs.run_id = runs.id
      AND task_runs.state NOT IN ('succeeded', 'failed', 'upstream_failed', 'cancelled', 'expired', 'skipped')
  )
RETURNING *;

-- name: EndSoloRuns :many
-- Ends single-task runs with their task's outcome (succeeded or failed):
-- nothing else of theirs is left to settle. Their run-end callbacks, if
-- they have one, are pending. Returns the runs ended, each with whether its
-- job has a run queued (overlap=queue, or queued under an earlier
-- definition): what JobsWithQueuedRuns would say, without a statement of
-- its own. The recorder passes the runs whose task runs RecordAndSettle
-- moved (EndCheckedSoloRuns finds them itself).
--
-- The runs are found by their key alone. The condition that they still
-- run reads state NOT IN (every other state) rather than state =
-- 'running': the latter implies the predicate of runs_active_by_job, and
-- PostgreSQL then chose, by its statistics of the moment, to read every
-- running run through that index and hash them against the batch: a read
-- of the whole backlog (and of the entries of every run ended since the
-- last vacuum) per batch, the costliest statement of a delivery at 5 ms a
-- call. plans_test.go keeps a backlog to catch it.
UPDATE runs SET state = u.state, finished_at = now(),
    callback_state = CASE WHEN runs.on_run_end IS NOT NULL THEN 'pending' END
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@states::text[]) AS state) u
WHERE runs.id = u.id
  AND runs.state NOT IN ('queued', 'skipped', 'succeeded', 'failed', 'cancelled', 'timed_out')
RETURNING sqlc.embed(runs),
    EXISTS (SELECT 1 FROM runs q WHERE q.job_id = runs.job_id AND q.state = 'queued')::bool AS job_has_queued;

-- name: EndCheckedSoloRuns :many
-- EndSoloRuns for runs whose task runs RecordAndSettle may not have moved:
-- a run ends only if its task run (@task_run_ids) is in the state the
-- recorder just gave it (@task_states) at the attempt it recorded
-- (@attempts), which RecordAndSettle leaves when it moves the task run and
-- not otherwise (a task run cancelled meanwhile, or settled by a newer
-- attempt). So the recorder need not read RecordAndSettle's result first:
-- both go out in one round trip. Reading the task runs costs a lookup per
-- run, which a small batch's round trip outweighs and a large batch's does
-- not (the recorder chooses, recordBlindMax).
UPDATE runs SET state = u.state, finished_at = now(),
    callback_state = CASE WHEN runs.on_run_end IS NOT NULL THEN 'pending' END
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@states::text[]) AS state,
             unnest(@task_run_ids::uuid[]) AS task_run_id, unnest(@task_states::text[]) AS task_state,
             unnest(@attempts::int[]) AS attempt) u
JOIN task_runs t ON t.id = u.task_run_id
WHERE runs.id = u.id
  AND t.state = u.task_state AND t.attempts = u.attempt
  AND runs.state NOT IN ('queued', 'skipped', 'succeeded', 'failed', 'cancelled', 'timed_out')
RETURNING sqlc.embed(runs),
    EXISTS (SELECT 1 FROM runs q WHERE q.job_id = runs.job_id AND q.state = 'queued')::bool AS job_has_queued;

-- name: JobsWithQueuedRuns :many
-- Of the given jobs, those with a run waiting for an earlier one (overlap=queue).
SELECT DISTINCT job_id FROM runs WHERE job_id = ANY(@job_ids::uuid[]) AND state = 'queued' ORDER BY job_id;

-- name: LatestRuns :many
-- Each given job's most recent run (the job list page).
SELECT DISTINCT ON (job_id) * FROM runs
WHERE job_id = ANY(@job_ids::uuid[])
ORDER BY job_id, id DESC;

-- name: TaskStateCounts :many
-- How many of a run's tasks are in each state (a run's page).
SELECT state, count(*)::int AS n FROM task_runs WHERE run_id = @run_id AND fleet_of IS NULL GROUP BY state;

-- name: ListTaskRunsFirst :many
-- The first of a run's task runs by task id (a run's page).
SELECT * FROM task_runs WHERE run_id = @run_id AND fleet_of IS NULL ORDER BY task_id LIMIT @max_rows;

-- name: ListAttemptsOf :many
-- The attempts of the given task runs, as ListRunAttempts lists them.
SELECT a.* FROM attempts a
JOIN task_runs tr ON tr.id = a.task_run_id
WHERE a.task_run_id = ANY(@task_run_ids::uuid[]) AND a.attempt IS DISTINCT FROM tr.ok_attempt
UNION ALL
SELECT tr.id, tr.ok_attempt, tr.ok_started_at, tr.ok_duration_ms, tr.ok_status_code, 'succeeded', NULL,
       tr.ok_response_body, tr.ok_response_truncated, NULL, NULL, NULL
FROM task_runs tr
WHERE tr.id = ANY(@task_run_ids::uuid[]) AND tr.ok_attempt IS NOT NULL
ORDER BY task_run_id, attempt;

-- name: ClaimTimedOutRuns :many
-- Running runs past their deadline, by the database's clock, locked until
-- the transaction ends; runs another transaction holds (a replica's sweep,
-- the recorder settling one of its tasks, a cancel) are skipped and found
-- again by the next sweep.
SELECT * FROM runs
WHERE deadline <= now() AND state = 'running' AND deadline IS NOT NULL
ORDER BY deadline
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: RunInput :one
SELECT input FROM runs WHERE id = @id;
