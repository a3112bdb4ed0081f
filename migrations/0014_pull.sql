-- Pull mode: a device without a URL fetches its tasks. A delivery placed on
-- it offers the request here (the worker making the attempt waits for its
-- result, as it waits for a pushed request's answer); the device's
-- long-poll takes it (signed then), and reports the result, which wakes the
-- worker (LISTEN/NOTIFY, internal/notify).
CREATE TABLE device_tasks (
    lease_id uuid PRIMARY KEY,
    device_id uuid NOT NULL,
    task_run_id uuid NOT NULL,
    attempt integer NOT NULL,
    -- holder is the replica whose worker waits for the result: a dead
    -- replica's offers go with the rest of its work.
    holder text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    -- headers are the request's headers but the signature's, which is made
    -- when the device takes the task (its timestamp must be fresh).
    headers jsonb NOT NULL,
    body bytea,
    timeout_ms integer NOT NULL,
    -- state is 'offered', 'taken' (deadline: taken_at plus the timeout) or
    -- 'reported' (result_status, result_body).
    state text NOT NULL DEFAULT 'offered' CHECK (state IN ('offered', 'taken', 'reported')),
    created_at timestamptz NOT NULL DEFAULT now(),
    taken_at timestamptz,
    deadline timestamptz,
    result_status integer,
    result_body bytea,
    reported_at timestamptz
);
CREATE INDEX device_tasks_offered ON device_tasks (device_id, created_at) WHERE state = 'offered';
CREATE INDEX device_tasks_by_holder ON device_tasks (holder);
