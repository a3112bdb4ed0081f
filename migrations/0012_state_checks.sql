-- The states of runs and task runs and the outcomes of attempts are typed
-- once in Go (internal/state); PostgreSQL refuses any other value, and a
-- test checks that these lists and Go's agree. NOT VALID then VALIDATE: the
-- check of existing rows does not block writes.
ALTER TABLE runs ADD CONSTRAINT runs_state_check
    CHECK (state IN ('running', 'queued', 'skipped', 'succeeded', 'failed', 'cancelled')) NOT VALID;
ALTER TABLE task_runs ADD CONSTRAINT task_runs_state_check
    CHECK (state IN ('waiting', 'pending', 'running', 'retrying', 'succeeded', 'failed', 'upstream_failed', 'cancelled')) NOT VALID;
ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check
    CHECK (outcome IN ('succeeded', 'retrying', 'failed', 'lost')) NOT VALID;
ALTER TABLE runs VALIDATE CONSTRAINT runs_state_check;
ALTER TABLE task_runs VALIDATE CONSTRAINT task_runs_state_check;
ALTER TABLE attempts VALIDATE CONSTRAINT attempts_outcome_check;
