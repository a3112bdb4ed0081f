-- name: FailDescendants :exec
-- A task failed for good: every task downstream of it that has not started
-- ends as upstream_failed.
WITH RECURSIVE down(id) AS (
    SELECT unnest(child_ids) FROM task_runs WHERE task_runs.id = @id
    UNION
    SELECT unnest(t.child_ids) FROM task_runs t JOIN down ON t.id = down.id
)
UPDATE task_runs SET state = 'upstream_failed', finished_at = now(),
    last_error = 'upstream task ' || @task_id::text || ' failed'
WHERE task_runs.id IN (SELECT id FROM down) AND task_runs.state = 'waiting';

-- name: SaveResult :exec
UPDATE task_runs SET result_status = @result_status, result_body = @result_body WHERE id = @id;

-- name: TaskResults :many
SELECT task_id, result_status, result_body FROM task_runs
WHERE run_id = @run_id AND task_id = ANY(@task_ids::text[]);

-- name: BeginAttempts :many
-- Marks task runs as running for their attempts, many at once, and returns
-- what each delivery needs. A task run no longer deliverable (finished,
-- cancelled, or of another round) returns no row: its River job ends quietly.
WITH input AS (
    SELECT unnest(@ids::uuid[]) AS id, unnest(@rounds::int[]) AS round, unnest(@attempts::int[]) AS attempt
), tr AS (
    UPDATE task_runs SET
        state = 'running',
        attempts = input.attempt,
        started_at = coalesce(task_runs.started_at, now())
    FROM input
    -- id = ANY(...) as well as the join: an index condition on task_runs
    -- whatever plan the prepared statement gets.
    WHERE task_runs.id = ANY(@ids::uuid[]) AND task_runs.id = input.id AND task_runs.round = input.round
      AND task_runs.state IN ('pending', 'running', 'retrying')
    RETURNING task_runs.id, task_runs.run_id, task_runs.task_id, task_runs.spec,
              task_runs.child_ids, task_runs.keep_result
)
SELECT tr.id, tr.run_id, tr.task_id, tr.spec, tr.child_ids, tr.keep_result,
       r.job_id, r.scheduled_for, r.trigger, j.secret, j.overlap,
       j.previous_secret, j.previous_secret_expires_at
FROM tr
JOIN runs r ON r.id = tr.run_id
JOIN jobs j ON j.id = r.job_id;

-- name: RecordAttempts :exec
-- Records many attempts (a rescued attempt recorded again overwrites its
-- row). NULL is passed as: status_code 0,
-- error '', response_body when status_code is 0, next_retry_at when
-- has_retry is false.
INSERT INTO attempts (task_run_id, attempt, started_at, duration_ms, status_code, outcome, error,
                      response_body, response_truncated, next_retry_at, device_id, placement)
SELECT a.task_run_id, a.attempt, a.started_at, a.duration_ms, nullif(a.status_code, 0), a.outcome,
       nullif(a.error, ''), CASE WHEN a.status_code <> 0 THEN a.response_body END, a.response_truncated,
       CASE WHEN a.has_retry THEN a.next_retry_at END,
       nullif(a.device_id, '00000000-0000-0000-0000-000000000000'::uuid), nullif(a.placement, '')
FROM (SELECT unnest(@task_run_ids::uuid[]) AS task_run_id, unnest(@attempts::int[]) AS attempt,
             unnest(@started_ats::timestamptz[]) AS started_at, unnest(@durations_ms::float8[]) AS duration_ms,
             unnest(@status_codes::int[]) AS status_code, unnest(@outcomes::text[]) AS outcome,
             unnest(@errors::text[]) AS error, unnest(@response_bodies::text[]) AS response_body,
             unnest(@responses_truncated::bool[]) AS response_truncated,
             unnest(@has_retry::bool[]) AS has_retry, unnest(@next_retry_ats::timestamptz[]) AS next_retry_at,
             unnest(@device_ids::uuid[]) AS device_id, unnest(@placements::text[]) AS placement) a
ON CONFLICT (task_run_id, attempt) DO UPDATE SET
    started_at = excluded.started_at,
    duration_ms = excluded.duration_ms,
    status_code = excluded.status_code,
    outcome = excluded.outcome,
    error = excluded.error,
    response_body = excluded.response_body,
    response_truncated = excluded.response_truncated,
    next_retry_at = excluded.next_retry_at,
    device_id = excluded.device_id,
    placement = excluded.placement;

-- name: SettleTaskRuns :many
-- Ends task runs (succeeded, failed) or marks them retrying, many at once.
-- Returns those changed: a task run cancelled meanwhile stays cancelled,
-- and one whose latest attempt is not the one recorded (its delivery was
-- reclaimed from a replica declared dead, and attempted again) keeps what
-- the newer attempt decides.
UPDATE task_runs SET
    state = u.state,
    last_error = nullif(u.last_error, ''),
    finished_at = CASE WHEN u.state = 'retrying' THEN task_runs.finished_at ELSE now() END
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@states::text[]) AS state,
             unnest(@last_errors::text[]) AS last_error, unnest(@attempts::int[]) AS attempt) u
WHERE task_runs.id = ANY(@ids::uuid[]) AND task_runs.id = u.id AND task_runs.attempts = u.attempt
  AND (task_runs.state = 'running' OR (u.state <> 'retrying' AND task_runs.state IN ('pending', 'retrying')))
RETURNING task_runs.id;

-- name: ReleaseChildrenMany :many
-- Counts succeeded parents in their children (child_ids lists a child once
-- per parent that succeeded), and makes the children whose parents have all
-- succeeded pending. Returns the children changed; those with no pending
-- parent left are to be enqueued.
UPDATE task_runs SET
    pending_parents = pending_parents - c.n,
    state = CASE WHEN pending_parents = c.n THEN 'pending' ELSE state END
FROM (SELECT id, count(*)::int AS n FROM unnest(@child_ids::uuid[]) AS id GROUP BY id) c
WHERE task_runs.id = ANY(@child_ids::uuid[]) AND task_runs.id = c.id AND task_runs.state = 'waiting'
RETURNING task_runs.id, task_runs.spec, task_runs.pending_parents, task_runs.round;
