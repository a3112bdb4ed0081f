-- name: BeginAttempt :one
-- Marks a task run as running for this attempt and returns what the delivery
-- needs. Returns no row when the task run is no longer deliverable (finished
-- or cancelled), which ends the River job quietly.
WITH tr AS (
    UPDATE task_runs SET
        state = 'running',
        attempts = @attempt,
        started_at = coalesce(started_at, now())
    WHERE task_runs.id = @id AND task_runs.state IN ('pending', 'running', 'retrying')
    RETURNING task_runs.id, task_runs.run_id, task_runs.task_id, task_runs.spec
)
SELECT tr.id, tr.run_id, tr.task_id, tr.spec, r.job_id, r.scheduled_for, j.secret
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
