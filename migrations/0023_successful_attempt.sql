-- A task run's successful attempt to a URL is kept in the task run itself
-- (issue 18): the update that ends the task run (RecordAndSettle) carries it,
-- where it used to insert an attempts row too (a row, an index entry, a
-- foreign-key check and its row lock per delivery). Attempts that fail or
-- are retried, lost with a replica, or go to a device keep their rows in
-- attempts: a device's page lists its attempts by attempts_by_device, and
-- a retried run's history is the list of rows.
--
-- ok_attempt is the attempt's number, NULL when the success has a row in
-- attempts (every task run before this migration, which keeps its rows as
-- they are). A task run is given one only when it becomes succeeded, and a
-- succeeded task run does not run again, so it is never overwritten. The
-- readers (ListRunAttempts, ListAttemptsOf) list both, the row in attempts
-- of the same number (recorded as lost by a replica's reclaim, before the
-- replica's own record of its success arrived) giving way to it.
ALTER TABLE task_runs
    ADD COLUMN ok_attempt integer,
    ADD COLUMN ok_started_at timestamptz,
    ADD COLUMN ok_duration_ms double precision,
    ADD COLUMN ok_status_code integer,
    ADD COLUMN ok_response_body text,
    ADD COLUMN ok_response_truncated boolean;
