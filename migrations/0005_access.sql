-- Access and safety: API keys (stored hashed), idempotency keys, and signing
-- secret rotation.

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- prefix is the start of the key, shown in lists to tell keys apart.
    prefix text NOT NULL,
    -- hash is SHA-256 of the key; the key itself is shown once, at creation.
    hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- A request with an Idempotency-Key and its response, kept 24 hours.
CREATE TABLE idempotency_keys (
    -- scope is the route and the caller ("POST /v1/jobs key:<id>").
    scope text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    status integer NOT NULL,
    location text,
    response bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- During a rotation deliveries are signed with both secrets until
-- previous_secret_expires_at.
ALTER TABLE jobs ADD COLUMN previous_secret text;
ALTER TABLE jobs ADD COLUMN previous_secret_expires_at timestamptz;
