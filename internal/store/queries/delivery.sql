-- name: BeginAttempt :one
-- Marks a task run as running for this attempt and returns what the delivery
-- needs. Returns no row when the task run is no longer deliverable (finished
-- or cancelled), which ends the River job quietly.
WITH tr AS (
    UPDATE task_runs SET
        state = 'running',
        attempts = @attempt,
        started_at = coalesce(started_at, now())
    WHERE task_runs.id = @id AND task_runs.round = @round
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

-- name: RecordAttempt :exec
INSERT INTO attempts (task_run_id, attempt, started_at, duration_ms, status_code, outcome, error,
                      response_body, response_truncated, next_retry_at)
VALUES (@task_run_id, @attempt, @started_at, @duration_ms, @status_code, @outcome, @error,
        @response_body, @response_truncated, @next_retry_at)
ON CONFLICT (task_run_id, attempt) DO UPDATE SET
    started_at = excluded.started_at,
    duration_ms = excluded.duration_ms,
    status_code = excluded.status_code,
    outcome = excluded.outcome,
    error = excluded.error,
    response_body = excluded.response_body,
    response_truncated = excluded.response_truncated,
    next_retry_at = excluded.next_retry_at;

-- name: FinishTaskRun :one
UPDATE task_runs SET state = @state, last_error = @last_error, finished_at = now()
WHERE id = @id AND state IN ('pending', 'running', 'retrying')
RETURNING run_id;

-- name: MarkTaskRunRetrying :exec
UPDATE task_runs SET state = 'retrying', last_error = @last_error
WHERE id = @id AND state = 'running';

-- name: ReleaseChildren :many
-- One parent of each child succeeded: count it, and make the children whose
-- parents have all succeeded pending. Returns those, to be enqueued.
UPDATE task_runs SET
    pending_parents = pending_parents - 1,
    state = CASE WHEN pending_parents = 1 THEN 'pending' ELSE state END
WHERE id = ANY(@child_ids::uuid[]) AND state = 'waiting'
RETURNING id, spec, pending_parents, round;

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
