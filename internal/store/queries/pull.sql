-- name: OfferDeviceTask :exec
-- Offers a task to a pull-mode device and wakes its long-polls.
WITH o AS (
    INSERT INTO device_tasks (lease_id, device_id, task_run_id, attempt, holder, method, path, headers, body, timeout_ms)
    VALUES (@lease_id, @device_id, @task_run_id, @attempt, @holder, @method, @path, @headers, @body, @timeout_ms)
    RETURNING device_id
)
SELECT pg_notify('herald_device_offers', device_id::text) FROM o;

-- name: TakeDeviceTask :one
-- A device takes its oldest offered task: its deadline starts now. Returns
-- what the device needs, with the job's signing secrets.
WITH taken AS (
    UPDATE device_tasks SET state = 'taken', taken_at = now(),
        deadline = now() + make_interval(secs => device_tasks.timeout_ms / 1000.0)
    WHERE lease_id = (
        SELECT d.lease_id FROM device_tasks d
        WHERE d.device_id = @device_id AND d.state = 'offered'
        ORDER BY d.created_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING device_tasks.*
)
SELECT taken.lease_id, taken.task_run_id, taken.attempt, taken.method, taken.path, taken.headers, taken.body,
       taken.deadline::timestamptz AS deadline, j.secret, j.previous_secret, j.previous_secret_expires_at
FROM taken
JOIN task_runs tr ON tr.id = taken.task_run_id
JOIN runs r ON r.id = tr.run_id
JOIN jobs j ON j.id = r.job_id;

-- name: ReportDeviceTask :one
-- Records the result of a task the device took, if its lease is still
-- good (its own, taken, before the deadline), and wakes the worker.
WITH reported AS (
    UPDATE device_tasks SET state = 'reported', result_status = @status, result_body = @body, reported_at = now()
    WHERE lease_id = @lease_id AND device_id = @device_id AND state = 'taken' AND deadline >= now()
    RETURNING lease_id
)
SELECT lease_id, pg_notify('herald_device_results', lease_id::text) IS NOT NULL AS notified FROM reported;

-- name: ReadDeviceTask :one
SELECT state, taken_at, deadline, result_status, result_body, reported_at FROM device_tasks WHERE lease_id = @lease_id;

-- name: WithdrawDeviceTask :exec
DELETE FROM device_tasks WHERE lease_id = @lease_id;

-- name: WithdrawHolderDeviceTasks :execrows
-- Withdraws the offers a dead replica's workers waited on.
DELETE FROM device_tasks WHERE holder = @holder;
