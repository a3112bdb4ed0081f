-- Devices (SPEC section 9): the edge devices tasks are placed on, their
-- heartbeats, and pools of them selected by labels.
CREATE TABLE devices (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- url is the base URL herald pushes to (a task's target path is
    -- appended); NULL for a device in pull mode, which long-polls for work.
    url text,
    -- capacity is how many deliveries the device takes at once.
    capacity integer NOT NULL,
    -- timezone is the IANA zone the device last reported (or was given).
    timezone text NOT NULL DEFAULT 'UTC',
    -- token_hash is SHA-256 of the device's token ("hd_..."), which reaches
    -- only this device's endpoints; token_prefix tells tokens apart.
    token_hash bytea NOT NULL UNIQUE,
    token_prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Liveness, written by batched heartbeats (no index on these columns,
    -- so that a heartbeat is a HOT update): online until the device timeout
    -- passes without a heartbeat; the sweeper that declares it offline
    -- reclaims what was placed on it in the same transaction.
    online boolean NOT NULL DEFAULT false,
    last_heartbeat_at timestamptz,
    cpu double precision,
    memory double precision,
    queue_depth integer,
    -- offline_since is when it was declared offline.
    offline_since timestamptz
);
CREATE INDEX devices_labels ON devices USING gin (labels jsonb_path_ops);
CREATE INDEX devices_by_name ON devices (name);
