-- River's producers fetch available jobs whose scheduled_at has come. herald
-- stores future jobs as available (see jobs/hook.go), so this partial index
-- keeps that fetch fast however many future jobs wait.
CREATE INDEX river_job_available_due ON river_job (queue, priority, scheduled_at, id)
    WHERE state = 'available';
