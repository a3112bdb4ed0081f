-- herald's schema: jobs (definitions), runs (one per fire or trigger), task
-- runs (one per task of a run) and attempts (one per HTTP request).

CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- schedule is the schedule as registered ({"at": ...}, {"delay": ...}, ...)
    -- or NULL for a job that runs only when triggered.
    schedule jsonb,
    -- tasks is the list of task definitions as registered (json, not jsonb:
    -- request bodies are sent byte for byte as stored, keys in their order).
    tasks json NOT NULL,
    paused boolean NOT NULL DEFAULT false,
    misfire text NOT NULL DEFAULT 'fire_once',
    overlap text NOT NULL DEFAULT 'allow',
    labels jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- secret signs deliveries (Standard Webhooks, "whsec_..."); shown once.
    secret text NOT NULL,
    -- next_fire_at is the nominal time of the next tick, NULL when none.
    next_fire_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- deleted_at marks a deleted job: no more ticks, history kept.
    deleted_at timestamptz
);

CREATE INDEX jobs_live ON jobs (id DESC) WHERE deleted_at IS NULL;

CREATE TABLE runs (
    id uuid PRIMARY KEY,
    job_id uuid NOT NULL REFERENCES jobs (id),
    -- trigger is 'schedule' (a tick) or 'manual' (POST /v1/jobs/{id}/runs).
    trigger text NOT NULL,
    -- state is 'running', 'succeeded', 'failed' or 'cancelled'.
    state text NOT NULL,
    -- scheduled_for is the nominal fire time (Herald-Scheduled-For).
    scheduled_for timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- One run per tick: the claim of a tick and the creation of its run are the
-- same insert.
CREATE UNIQUE INDEX runs_one_per_tick ON runs (job_id, scheduled_for) WHERE trigger = 'schedule';
CREATE INDEX runs_by_job ON runs (job_id, id DESC);
CREATE INDEX runs_by_state ON runs (state, id DESC);

CREATE TABLE task_runs (
    id uuid PRIMARY KEY,
    run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    task_id text NOT NULL,
    -- spec is the task definition the run started with.
    spec json NOT NULL,
    -- state is 'waiting' (on upstream tasks), 'pending' (enqueued),
    -- 'running', 'succeeded', 'failed', 'upstream_failed' or 'cancelled'.
    state text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    started_at timestamptz,
    finished_at timestamptz,
    UNIQUE (run_id, task_id)
);

CREATE INDEX task_runs_unsettled ON task_runs (run_id)
    WHERE state NOT IN ('succeeded', 'failed', 'upstream_failed', 'cancelled');

CREATE TABLE attempts (
    task_run_id uuid NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL,
    duration_ms double precision NOT NULL,
    -- status_code is NULL when no response arrived (network error, timeout).
    status_code integer,
    -- outcome is 'succeeded', 'retry' or 'failed'.
    outcome text NOT NULL,
    error text,
    -- response_body holds the first bytes of the response (4 KiB by default).
    response_body text,
    response_truncated boolean NOT NULL DEFAULT false,
    next_retry_at timestamptz,
    PRIMARY KEY (task_run_id, attempt)
);
