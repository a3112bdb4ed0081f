-- Tasks placed on devices: each attempt records the device it went to and
-- why (the placement's explanation), deliveries in flight to a device hold a
-- lease (its capacity, across replicas), and a task that waited for a device
-- past its valid_for ends 'expired'.
ALTER TABLE attempts ADD COLUMN device_id uuid;
ALTER TABLE attempts ADD COLUMN placement text;

-- A delivery in flight to a device. The holder is the replica making it, so
-- that a dead replica's leases go with the rest of its work; a lease
-- expires with the request's timeout plus a margin in any case.
CREATE TABLE device_leases (
    task_run_id uuid PRIMARY KEY,
    device_id uuid NOT NULL,
    holder text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX device_leases_by_device ON device_leases (device_id, expires_at);
CREATE INDEX device_leases_by_holder ON device_leases (holder);

ALTER TABLE task_runs DROP CONSTRAINT task_runs_state_check;
ALTER TABLE task_runs ADD CONSTRAINT task_runs_state_check
    CHECK (state IN ('waiting', 'pending', 'running', 'retrying', 'succeeded', 'failed', 'upstream_failed', 'cancelled', 'expired'));

-- The unsettled task runs of a run: every state but the final ones.
DROP INDEX task_runs_unsettled;
CREATE INDEX task_runs_unsettled ON task_runs (run_id)
    WHERE state NOT IN ('succeeded', 'failed', 'upstream_failed', 'cancelled', 'expired');

ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check
    CHECK (outcome IN ('succeeded', 'retrying', 'failed', 'lost', 'expired'));

COMMENT ON COLUMN attempts.outcome IS 'succeeded, retrying, failed, lost (its replica died holding it) or expired (no device eligible within valid_for: no request made)';
