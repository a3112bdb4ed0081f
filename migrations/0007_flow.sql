-- Flow control per job, across replicas: a token bucket for `rate`
-- (requests per second) and leases for `max_in_flight`.
ALTER TABLE jobs ADD COLUMN rate double precision;
ALTER TABLE jobs ADD COLUMN max_in_flight integer;

CREATE TABLE job_flow (
    job_id uuid PRIMARY KEY,
    -- tokens in the bucket as of refilled_at (burst: max(1, rate)).
    tokens double precision NOT NULL,
    refilled_at timestamptz NOT NULL
);

-- A delivery in flight for a job with max_in_flight. A lease outlives a
-- killed replica only until it expires (the request's timeout plus a margin).
CREATE TABLE job_leases (
    task_run_id uuid PRIMARY KEY,
    job_id uuid NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX job_leases_by_job ON job_leases (job_id, expires_at);
