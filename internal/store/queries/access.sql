-- name: CreateAPIKey :one
INSERT INTO api_keys (id, name, prefix, hash) VALUES (@id, @name, @prefix, @hash)
RETURNING id, name, prefix, created_at, revoked_at;

-- name: ListAPIKeys :many
SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY id DESC;

-- name: RevokeAPIKey :one
-- A key already revoked is not found: revoking it again answers 404.
UPDATE api_keys SET revoked_at = now() WHERE id = @id AND revoked_at IS NULL
RETURNING id;

-- name: APIKeyByHash :one
SELECT id FROM api_keys WHERE hash = @hash AND revoked_at IS NULL;

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
