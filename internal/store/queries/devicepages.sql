-- name: DeviceAttempts :many
-- A device's latest attempts, newest first, with their task, run and job.
SELECT a.task_run_id, a.attempt, a.started_at, a.duration_ms, a.status_code, a.outcome, a.error, a.placement,
       tr.task_id, tr.run_id, r.job_id, j.name AS job_name
FROM attempts a
JOIN task_runs tr ON tr.id = a.task_run_id
JOIN runs r ON r.id = tr.run_id
JOIN jobs j ON j.id = r.job_id
WHERE a.device_id = @device_id
ORDER BY a.started_at DESC
LIMIT @max_rows;

-- name: DeviceEndpoints :many
-- The circuits of the given devices' keys (endpoints rows "device:<id>").
SELECT host, state, consecutive_failures, times_opened, last_error, opened_at, next_probe_at
FROM endpoints WHERE host = ANY(@hosts::text[]);
