-- DAG workflows: a task run waits for its parents (pending_parents counts
-- those not yet succeeded), knows its children, and keeps its response when a
-- downstream task refers to it.

ALTER TABLE task_runs ADD COLUMN pending_parents integer NOT NULL DEFAULT 0;
ALTER TABLE task_runs ADD COLUMN child_ids uuid[] NOT NULL DEFAULT '{}';
-- keep_result: a downstream task's template refers to this task's result.
ALTER TABLE task_runs ADD COLUMN keep_result boolean NOT NULL DEFAULT false;
ALTER TABLE task_runs ADD COLUMN result_status integer;
ALTER TABLE task_runs ADD COLUMN result_body jsonb;
-- round counts retries of the task run through POST /v1/runs/{id}/retry; a
-- delivery job of an earlier round (a cancelled task's pending retry) is
-- ignored.
ALTER TABLE task_runs ADD COLUMN round integer NOT NULL DEFAULT 0;
