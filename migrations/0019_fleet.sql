-- Fleet rollouts (SPEC 10): a task whose target is a fleet runs on every
-- device its selector matches when it starts. Its own task run (the fleet
-- task) makes no request: it stands for the fleet in the DAG, and settles
-- when its rollout ends. Each device has a task run of its own (a member:
-- fleet_of names the fleet task, device_id the device, wave its wave),
-- delivered like a task for one device.
ALTER TABLE task_runs ADD COLUMN fleet_of uuid REFERENCES task_runs (id) ON DELETE CASCADE;
ALTER TABLE task_runs ADD COLUMN device_id uuid;
ALTER TABLE task_runs ADD COLUMN wave integer;
ALTER TABLE task_runs ADD CONSTRAINT task_runs_member_check
    CHECK ((fleet_of IS NULL) = (device_id IS NULL) AND (fleet_of IS NULL) = (wave IS NULL));

-- A run has one task run per task, and a fleet task one member per device.
ALTER TABLE task_runs DROP CONSTRAINT task_runs_run_id_task_id_key;
CREATE UNIQUE INDEX task_runs_one_per_task ON task_runs (run_id, task_id) WHERE fleet_of IS NULL;
-- Members by fleet and wave: a wave's start (state), its counts (the
-- rollout's snapshot), the members' listing.
CREATE UNIQUE INDEX task_runs_members ON task_runs (fleet_of, wave, device_id) WHERE fleet_of IS NOT NULL;

-- A fleet task's rollout. sizes are the members each wave adds (fixed when
-- the fleet task starts); started counts the waves started. status is
-- running, paused (by POST /v1/runs/{id}/pause), aborted (an abort_if bound
-- was crossed: reason) or done. settled_at is when the current wave was
-- first seen settled (its pause counts from then). base_failed and
-- base_targeted are the members failed and sent to at the last resume:
-- the bounds count from there. stepper is the River job that steps the
-- rollout (RolloutArgs): a step job that finds another named here stops,
-- so that a resume or a reclaim replaces it rather than adding one. One
-- row lock serializes every decision.
CREATE TABLE rollouts (
    task_run_id uuid PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
    run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    sizes integer[] NOT NULL,
    started integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'aborted', 'done')),
    reason text,
    settled_at timestamptz,
    base_failed integer NOT NULL DEFAULT 0,
    base_targeted integer NOT NULL DEFAULT 0,
    stepper bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rollouts_by_run ON rollouts (run_id);
