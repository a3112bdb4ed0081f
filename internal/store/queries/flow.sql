-- name: EnsureFlow :exec
-- Creates the job's token bucket, full, if it has none.
INSERT INTO job_flow (job_id, tokens, refilled_at) VALUES (@job_id, @burst, now())
ON CONFLICT (job_id) DO NOTHING;

-- name: LockFlow :one
-- The job's token bucket, locked until the transaction ends.
SELECT f.tokens, f.refilled_at, now()::timestamptz AS now FROM job_flow f WHERE f.job_id = @job_id FOR UPDATE;

-- name: SetFlow :exec
UPDATE job_flow SET tokens = @tokens, refilled_at = @refilled_at WHERE job_id = @job_id;

-- name: CountLeases :one
SELECT count(*)::int FROM job_leases
WHERE job_id = @job_id AND expires_at > now() AND task_run_id <> @task_run_id;

-- name: TakeLease :exec
INSERT INTO job_leases (task_run_id, job_id, expires_at, holder)
VALUES (@task_run_id, @job_id, now() + make_interval(secs => @seconds::float8), @holder)
ON CONFLICT (task_run_id) DO UPDATE SET expires_at = excluded.expires_at, holder = excluded.holder;

-- name: ReleaseLease :exec
-- Ends a lease, unless another replica has taken it since (this one was
-- declared dead and its delivery reclaimed).
DELETE FROM job_leases WHERE task_run_id = @task_run_id AND holder = @holder;
