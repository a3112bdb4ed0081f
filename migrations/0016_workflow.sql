-- Workflow semantics (SPEC section 12): run input, inbound triggers, run
-- timeouts, failure branches (run_if), conditions (when, 'skipped' tasks)
-- and run-end callbacks.

-- A job's workflow options. run_timeout_ms: a run not finished this long
-- after its nominal time (or, for a queued run, its start) ends timed_out;
-- NULL: no limit. failure_handled: a run whose failed tasks each have a
-- failure handler (a direct child with run_if any_failed or all_done) that
-- succeeded ends succeeded. on_run_end: {"url", "headers"} called when a run
-- ends. inbound_secret: POST /v1/hooks/{job id} is enabled and signed with
-- it (Standard Webhooks), NULL: no hook; the previous one is accepted until
-- inbound_previous_expires_at after a rotation.
ALTER TABLE jobs ADD COLUMN run_timeout_ms bigint;
ALTER TABLE jobs ADD COLUMN failure_handled boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN on_run_end jsonb;
ALTER TABLE jobs ADD COLUMN inbound_secret text;
ALTER TABLE jobs ADD COLUMN inbound_previous_secret text;
ALTER TABLE jobs ADD COLUMN inbound_previous_expires_at timestamptz;

-- A run keeps what it started with: its input (json, not jsonb: rendered
-- into requests as sent, keys in their order), its deadline, and the job's
-- failure_handled and on_run_end. round counts its retries through the API
-- (a callback per end: webhook-id msg_end_<run>[_<round>]).
-- callback_state: NULL (no callback, or not ended), pending, retrying,
-- succeeded or failed.
ALTER TABLE runs ADD COLUMN input json;
ALTER TABLE runs ADD COLUMN deadline timestamptz;
ALTER TABLE runs ADD COLUMN failure_handled boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN on_run_end jsonb;
ALTER TABLE runs ADD COLUMN round integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN callback_state text
    CHECK (callback_state IN ('pending', 'retrying', 'succeeded', 'failed'));

-- The timeout sweep's claim: running runs by deadline.
CREATE INDEX runs_due ON runs (deadline) WHERE state = 'running' AND deadline IS NOT NULL;

-- A task run's run_if (all_succeeded, any_failed, all_done), and how many
-- of its parents ended in a failure (failed, upstream_failed, expired,
-- cancelled); pending_parents now counts the parents not yet finished.
ALTER TABLE task_runs ADD COLUMN run_if text NOT NULL DEFAULT 'all_succeeded'
    CHECK (run_if IN ('all_succeeded', 'any_failed', 'all_done'));
ALTER TABLE task_runs ADD COLUMN failed_parents integer NOT NULL DEFAULT 0;

-- The attempts of run-end callbacks, by run and round.
CREATE TABLE callback_attempts (
    run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    round integer NOT NULL,
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL,
    duration_ms double precision NOT NULL,
    status_code integer,
    outcome text NOT NULL CHECK (outcome IN ('succeeded', 'retrying', 'failed')),
    error text,
    PRIMARY KEY (run_id, round, attempt)
);

-- webhook-ids of inbound calls seen, per job, until they can no longer
-- verify (the tolerance window, both ways, with a margin): a replay starts
-- no second run.
CREATE TABLE inbound_seen (
    job_id uuid NOT NULL REFERENCES jobs (id),
    webhook_id text NOT NULL,
    run_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (job_id, webhook_id)
);
CREATE INDEX inbound_seen_expiry ON inbound_seen (expires_at);

-- New states: a task whose condition (when) was false, or whose run_if
-- any_failed found no failure, is 'skipped'; a run past its deadline ends
-- 'timed_out'.
ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check
    CHECK (state IN ('running', 'queued', 'skipped', 'succeeded', 'failed', 'cancelled', 'timed_out'));
ALTER TABLE task_runs DROP CONSTRAINT task_runs_state_check;
ALTER TABLE task_runs ADD CONSTRAINT task_runs_state_check
    CHECK (state IN ('waiting', 'pending', 'running', 'retrying', 'succeeded', 'failed', 'upstream_failed', 'cancelled', 'expired', 'skipped'));

DROP INDEX task_runs_unsettled;
CREATE INDEX task_runs_unsettled ON task_runs (run_id)
    WHERE state NOT IN ('succeeded', 'failed', 'upstream_failed', 'cancelled', 'expired', 'skipped');
