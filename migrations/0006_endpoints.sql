-- Endpoint health: a circuit per target host. After consecutive failures it
-- opens: deliveries to the host are parked (no attempt used) while one probe
-- at a time tests it, and the first success closes it.
CREATE TABLE endpoints (
    host text PRIMARY KEY,
    -- state is 'closed' (deliveries flow) or 'open' (parked, probing).
    state text NOT NULL DEFAULT 'closed',
    consecutive_failures integer NOT NULL DEFAULT 0,
    -- times_opened counts how often the circuit opened.
    times_opened bigint NOT NULL DEFAULT 0,
    last_error text,
    opened_at timestamptz,
    -- next_probe_at is when the next probe of an open circuit may go.
    next_probe_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
