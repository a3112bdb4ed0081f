-- name: CallbackTarget :one
-- What a run-end callback needs: the run as it ended, and its job's
-- signing secrets.
SELECT r.id, r.job_id, r.trigger, r.state, r.scheduled_for, r.created_at, r.finished_at,
       r.round, r.on_run_end, r.callback_state,
       j.secret, j.previous_secret, j.previous_secret_expires_at
FROM runs r JOIN jobs j ON j.id = r.job_id
WHERE r.id = @id;

-- name: RecordCallbackAttempt :exec
-- Records an attempt of a run's callback and the callback's state, unless
-- the run was retried meanwhile (a newer round has its own callback).
WITH attempt AS (
    INSERT INTO callback_attempts (run_id, round, attempt, started_at, duration_ms, status_code, outcome, error)
    VALUES (@run_id, @round, @attempt, @started_at, @duration_ms, sqlc.narg('status_code'), @outcome, sqlc.narg('error'))
    ON CONFLICT (run_id, round, attempt) DO UPDATE SET
        started_at = excluded.started_at, duration_ms = excluded.duration_ms, status_code = excluded.status_code,
        outcome = excluded.outcome, error = excluded.error
)
UPDATE runs SET callback_state = @callback_state
WHERE runs.id = @run_id AND runs.round = @round;

-- name: ListCallbackAttempts :many
SELECT * FROM callback_attempts WHERE run_id = @run_id AND round = @round ORDER BY attempt;
