-- Replica liveness (SPEC section 8). Every herald process registers itself
-- and heartbeats; a worker replica silent for its timeout is dead, and one
-- surviving worker reclaims what it held (jobs/reclaim.go).
CREATE TABLE replicas (
    -- id is also the process's River client id: River appends it to
    -- river_job.attempted_by when the process fetches a job.
    id text PRIMARY KEY,
    -- role is 'api', 'worker' or 'all' (--role).
    role text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    -- pid_namespace identifies the process's PID namespace on its host
    -- (/proc/self/ns/pid): a replica restarted on the same host may declare
    -- its predecessor dead at once only if that pid, in that namespace, is
    -- gone.
    pid_namespace text NOT NULL DEFAULT '',
    version text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    -- heartbeat_at is the database's clock at the last heartbeat;
    -- 'epoch' marks a replica known to be dead (its process is gone).
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    -- timeout_ms is how long the replica may stay silent before it is dead
    -- (--replica-timeout); each replica says its own.
    timeout_ms integer NOT NULL,
    -- state is 'alive', 'stopped' (exited cleanly) or 'dead' (declared dead
    -- and reclaimed).
    state text NOT NULL DEFAULT 'alive',
    -- working counts the delivery jobs the process was working at its last
    -- heartbeat, in_flight those of them with a request on the wire.
    working integer NOT NULL DEFAULT 0,
    in_flight integer NOT NULL DEFAULT 0,
    -- clock_offset_ms is PostgreSQL's clock minus the replica's, measured at
    -- each heartbeat (round trip compensated) and smoothed.
    clock_offset_ms double precision,
    -- ended_at is when it stopped or was declared dead; reclaimed_by the
    -- replica that reclaimed it, reclaimed the deliveries it moved.
    ended_at timestamptz,
    reclaimed_by text,
    reclaimed integer NOT NULL DEFAULT 0
);
CREATE INDEX replicas_alive ON replicas (heartbeat_at) WHERE state = 'alive';

-- A max_in_flight lease names the replica holding it, so that a dead
-- replica's leases are released with the rest of its work, and a replica
-- declared dead cannot release a lease its successor took.
ALTER TABLE job_leases ADD COLUMN holder text NOT NULL DEFAULT '';
CREATE INDEX job_leases_by_holder ON job_leases (holder);

-- Attempts lost with a dead replica are recorded with outcome 'lost'.
COMMENT ON COLUMN attempts.outcome IS 'succeeded, retry, failed, or lost (its replica died holding it)';
