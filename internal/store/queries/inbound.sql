-- name: SeeInbound :one
-- Records an inbound call's webhook-id for its job, with the run it starts,
-- unless the id was seen and has not expired: then no row. An expired
-- entry is replaced.
INSERT INTO inbound_seen (job_id, webhook_id, run_id, expires_at)
VALUES (@job_id, @webhook_id, @run_id, @expires_at)
ON CONFLICT (job_id, webhook_id) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
    WHERE inbound_seen.expires_at < now()
RETURNING run_id;

-- name: SeenInbound :one
-- The run an inbound webhook-id already started.
SELECT run_id FROM inbound_seen WHERE job_id = @job_id AND webhook_id = @webhook_id;

-- name: ForgetInbound :exec
-- Drops a job's expired webhook-ids.
DELETE FROM inbound_seen WHERE job_id = @job_id AND expires_at < now();

-- name: RotateInboundSecret :one
-- A new inbound secret; the previous one verifies until @previous_expires_at.
UPDATE jobs SET inbound_previous_secret = inbound_secret, inbound_previous_expires_at = @previous_expires_at,
    inbound_secret = @secret, updated_at = now()
WHERE id = @id AND deleted_at IS NULL AND inbound_secret IS NOT NULL
RETURNING *;
