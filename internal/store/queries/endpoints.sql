-- name: GetEndpoint :one
SELECT * FROM endpoints WHERE host = @host;

-- name: EndpointFailed :one
-- Counts a failed delivery to host; the circuit opens at the threshold.
INSERT INTO endpoints (host, consecutive_failures, last_error, updated_at)
VALUES (@host, 1, @last_error, now())
ON CONFLICT (host) DO UPDATE SET
    consecutive_failures = endpoints.consecutive_failures + 1,
    last_error = excluded.last_error,
    updated_at = now(),
    state = CASE WHEN endpoints.consecutive_failures + 1 >= @threshold::int THEN 'open' ELSE endpoints.state END,
    opened_at = CASE WHEN endpoints.state = 'closed' AND endpoints.consecutive_failures + 1 >= @threshold::int
                     THEN now() ELSE endpoints.opened_at END,
    times_opened = endpoints.times_opened
        + CASE WHEN endpoints.state = 'closed' AND endpoints.consecutive_failures + 1 >= @threshold::int THEN 1 ELSE 0 END,
    next_probe_at = CASE WHEN endpoints.consecutive_failures + 1 >= @threshold::int
                         THEN now() + make_interval(secs => @probe_seconds::float8) ELSE endpoints.next_probe_at END
RETURNING *;

-- name: EndpointSucceeded :exec
-- A delivery to host succeeded: the circuit closes.
UPDATE endpoints SET state = 'closed', consecutive_failures = 0, next_probe_at = NULL, updated_at = now()
WHERE host = @host AND (state <> 'closed' OR consecutive_failures > 0);

-- name: ClaimProbe :one
-- One delivery at a time may probe an open circuit once next_probe_at has come.
UPDATE endpoints SET next_probe_at = now() + make_interval(secs => @probe_seconds::float8), updated_at = now()
WHERE host = @host AND state = 'open' AND next_probe_at <= now()
RETURNING host;

-- name: ListEndpoints :many
SELECT * FROM endpoints ORDER BY (state = 'open') DESC, host;
