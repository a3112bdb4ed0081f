-- name: CreateAPIKey :one
INSERT INTO api_keys (id, name, prefix, hash, scope, labels) VALUES (@id, @name, @prefix, @hash, @scope, sqlc.narg(labels))
RETURNING id, name, prefix, scope, labels, created_at, revoked_at;

-- name: ListAPIKeys :many
SELECT id, name, prefix, scope, labels, created_at, revoked_at FROM api_keys ORDER BY id DESC;

-- name: RevokeAPIKey :one
-- A key already revoked is not found: revoking it again answers 404.
UPDATE api_keys SET revoked_at = now() WHERE id = @id AND revoked_at IS NULL
RETURNING id;

-- name: APIKeyByHash :one
SELECT id, scope, labels FROM api_keys WHERE hash = @hash AND revoked_at IS NULL;

-- name: GetIdempotentResponse :one
SELECT request_hash, status, location, response FROM idempotency_keys
WHERE scope = @scope AND key = @key AND created_at > now() - interval '24 hours';

-- name: SaveIdempotentResponse :exec
INSERT INTO idempotency_keys (scope, key, request_hash, status, location, response)
VALUES (@scope, @key, @request_hash, @status, @location, @response)
ON CONFLICT (scope, key) DO UPDATE SET
    request_hash = excluded.request_hash, status = excluded.status,
    location = excluded.location, response = excluded.response, created_at = now();

-- name: DeleteExpiredIdempotencyKeys :exec
DELETE FROM idempotency_keys WHERE ctid IN (
    SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT 100
);

-- name: RotateSecret :one
UPDATE jobs SET previous_secret = secret, previous_secret_expires_at = @previous_expires_at,
    secret = @secret, updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: RecordAudit :exec
INSERT INTO audit_log (id, principal, key_id, action, object_id, status, detail, request_id)
VALUES (@id, @principal, sqlc.narg(key_id), @action, sqlc.narg(object_id), @status, sqlc.narg(detail), @request_id);

-- name: ListAudit :many
-- Newest first, after the cursor, filtered.
SELECT * FROM audit_log
WHERE (sqlc.narg(before)::uuid IS NULL OR id < sqlc.narg(before)::uuid)
  AND (sqlc.narg(principal)::text IS NULL OR principal = sqlc.narg(principal)::text)
  AND (sqlc.narg(object_id)::text IS NULL OR object_id = sqlc.narg(object_id)::text)
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action)::text)
  AND (sqlc.narg('from')::timestamptz IS NULL OR at >= sqlc.narg('from')::timestamptz)
  AND (sqlc.narg('to')::timestamptz IS NULL OR at < sqlc.narg('to')::timestamptz)
  AND (NOT @failed_only::bool OR status >= 400)
ORDER BY id DESC
LIMIT @max_rows;

-- name: ForgetAudit :execrows
-- Deletes rows older than the retention, a batch at a time.
DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE at < now() - make_interval(secs => @keep_seconds::float8) LIMIT 1000
);

-- name: JobLabels :one
SELECT labels FROM jobs WHERE id = @id;

-- name: RunJobLabels :one
SELECT j.labels FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.id = @id;

-- name: RecordAudits :exec
-- Many audit rows in one statement (the triggers of a batch). NULL is
-- passed as: key_id the nil uuid, object_id and detail ''.
INSERT INTO audit_log (id, principal, key_id, action, object_id, status, detail, request_id)
SELECT a.id, a.principal, nullif(a.key_id, '00000000-0000-0000-0000-000000000000'::uuid), a.action,
       nullif(a.object_id, ''), a.status, nullif(a.detail, ''), a.request_id
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@principals::text[]) AS principal, unnest(@key_ids::uuid[]) AS key_id,
             unnest(@actions::text[]) AS action, unnest(@object_ids::text[]) AS object_id, unnest(@statuses::int[]) AS status,
             unnest(@details::text[]) AS detail, unnest(@request_ids::text[]) AS request_id) AS a;
