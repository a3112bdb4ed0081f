-- Scoped API keys and the audit log. A key's scope is admin (everything),
-- write (jobs, runs, devices; not keys nor the audit log) or read (GET
-- only); labels, when set, limit it to jobs carrying all of them (and
-- their runs). Keys made before scopes keep the full access they had.
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'admin'
    CHECK (scope IN ('admin', 'write', 'read'));
ALTER TABLE api_keys ADD COLUMN labels jsonb;

-- Every API write: who (the key, never its secret), when, what (the
-- route), on what (the object's id), how it ended (the HTTP status, and the
-- public detail of a refusal) and the request's id. A write's row commits
-- with the write itself; a refused write's row is written when it is
-- refused. Rows older than --audit-retention are deleted.
CREATE TABLE audit_log (
    id uuid PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    -- principal is 'bootstrap' (HERALD_API_KEY), 'insecure' (no
    -- authentication) or 'key:<id>'; key_id is that key.
    principal text NOT NULL,
    key_id uuid,
    -- action is the method and the route, e.g. 'POST /v1/jobs/{jobID}/pause'.
    action text NOT NULL,
    object_id text,
    status integer NOT NULL,
    detail text,
    request_id text NOT NULL
);
CREATE INDEX audit_log_by_object ON audit_log (object_id, id DESC) WHERE object_id IS NOT NULL;
CREATE INDEX audit_log_by_principal ON audit_log (principal, id DESC);
