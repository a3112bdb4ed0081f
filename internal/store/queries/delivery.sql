-- name: FailDescendants :many
-- A task failed for good (or was upstream_failed): every task downstream of
-- it that waits with run_if all_succeeded ends as upstream_failed, and so on
-- down. The walk stops at tasks whose run_if accepts a failure (any_failed,
-- all_done): it returns them, once per failed parent, to count the failure
-- in them (ReleaseChildrenMany).
WITH RECURSIVE down(parent, id) AS (
    SELECT @id::uuid, unnest(child_ids) FROM task_runs WHERE task_runs.id = @id
    UNION
    SELECT down.id, unnest(t.child_ids)
    FROM down JOIN task_runs t ON t.id = down.id
    WHERE t.state = 'waiting' AND t.run_if = 'all_succeeded'
), failed AS (
    UPDATE task_runs SET state = 'upstream_failed', finished_at = now(),
        last_error = 'upstream task ' || @task_id::text || ' failed'
    WHERE task_runs.id IN (SELECT id FROM down) AND task_runs.state = 'waiting' AND task_runs.run_if = 'all_succeeded'
    RETURNING task_runs.id
)
SELECT down.id::uuid AS child_id FROM down JOIN task_runs t ON t.id = down.id
WHERE t.state = 'waiting' AND t.run_if <> 'all_succeeded'
  AND (down.parent = @id::uuid OR down.parent IN (SELECT id FROM failed));

-- name: SaveResult :exec
UPDATE task_runs SET result_status = @result_status, result_body = @result_body WHERE id = @id;

-- name: TaskResults :many
SELECT task_id, state, result_status, result_body FROM task_runs
WHERE run_id = @run_id AND task_id = ANY(@task_ids::text[]) AND fleet_of IS NULL;

-- name: BeginAttempts :many
-- Marks task runs as running for their attempts, many at once, and returns
-- what each delivery needs. A task run no longer deliverable (finished,
-- cancelled, or of another round) returns no row: its River job ends quietly.
WITH tr AS (
    UPDATE task_runs SET
        state = 'running',
        attempts = input.attempt,
        started_at = coalesce(task_runs.started_at, now())
    -- Joined on the key alone: the input drives, each row an index scan.
    -- (A second condition task_runs.id = ANY(@ids) made PostgreSQL scan
    -- task_runs first and rescan the input for each row: quadratic.)
    FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@rounds::int[]) AS round, unnest(@attempts::int[]) AS attempt) input
    WHERE task_runs.id = input.id AND task_runs.round = input.round
      AND task_runs.state IN ('pending', 'running', 'retrying')
    RETURNING task_runs.id, task_runs.run_id, task_runs.task_id, task_runs.spec,
              task_runs.child_ids, task_runs.keep_result
)
SELECT tr.id, tr.run_id, tr.task_id, tr.spec, tr.child_ids, tr.keep_result,
       r.job_id, r.scheduled_for, r.trigger, j.secret, j.overlap,
       j.previous_secret, j.previous_secret_expires_at
FROM tr
JOIN runs r ON r.id = tr.run_id
JOIN jobs j ON j.id = r.job_id;

-- name: RecordAndSettle :many
-- Records many attempts (a rescued attempt recorded again overwrites its
-- row) and ends their task runs (succeeded, failed) or marks them retrying,
-- in one statement. For the attempts, NULL is passed as: status_code 0,
-- error '', response_body when status_code is 0, next_retry_at when
-- has_retry is false. Returns the task runs changed: a task run cancelled
-- meanwhile stays cancelled, and one whose latest attempt is not the one
-- recorded (@latest_attempts; its delivery was reclaimed from a replica
-- declared dead, and attempted again) keeps what the newer attempt decides.
--
-- A task run that succeeds here by an attempt to a URL keeps that attempt
-- in its ok_* columns instead of a row (migration 0023): @ok_indexes gives,
-- per task run, the attempt's position in the attempt arrays (1-based, 0
-- for none), and @inline marks those attempts, recorded as rows only when
-- their task run did not change (cancelled meanwhile).
WITH settled AS (
    UPDATE task_runs SET
        state = u.state,
        last_error = nullif(u.last_error, ''),
        finished_at = CASE WHEN u.state = 'retrying' THEN task_runs.finished_at ELSE now() END,
        ok_attempt = CASE WHEN u.ok > 0 THEN (@attempts::int[])[u.ok] ELSE task_runs.ok_attempt END,
        ok_started_at = CASE WHEN u.ok > 0 THEN (@started_ats::timestamptz[])[u.ok] ELSE task_runs.ok_started_at END,
        ok_duration_ms = CASE WHEN u.ok > 0 THEN (@durations_ms::float8[])[u.ok] ELSE task_runs.ok_duration_ms END,
        ok_status_code = CASE WHEN u.ok > 0 THEN nullif((@status_codes::int[])[u.ok], 0) ELSE task_runs.ok_status_code END,
        ok_response_body = CASE WHEN u.ok > 0 THEN
            CASE WHEN (@status_codes::int[])[u.ok] <> 0 THEN (@response_bodies::text[])[u.ok] END
            ELSE task_runs.ok_response_body END,
        ok_response_truncated = CASE WHEN u.ok > 0 THEN (@responses_truncated::bool[])[u.ok] ELSE task_runs.ok_response_truncated END
    FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@states::text[]) AS state,
                 unnest(@last_errors::text[]) AS last_error, unnest(@latest_attempts::int[]) AS attempt,
                 unnest(@ok_indexes::int[]) AS ok) u
    WHERE task_runs.id = u.id AND task_runs.attempts = u.attempt
      AND (task_runs.state = 'running' OR (u.state <> 'retrying' AND task_runs.state IN ('pending', 'retrying')))
    RETURNING task_runs.id
), recorded AS (
    INSERT INTO attempts (task_run_id, attempt, started_at, duration_ms, status_code, outcome, error,
                          response_body, response_truncated, next_retry_at, device_id, placement)
    SELECT a.task_run_id, a.attempt, a.started_at, a.duration_ms, nullif(a.status_code, 0), a.outcome,
           nullif(a.error, ''), CASE WHEN a.status_code <> 0 THEN a.response_body END, a.response_truncated,
           CASE WHEN a.has_retry THEN a.next_retry_at END,
           nullif(a.device_id, '00000000-0000-0000-0000-000000000000'::uuid), nullif(a.placement, '')
    FROM (SELECT unnest(@task_run_ids::uuid[]) AS task_run_id, unnest(@attempts::int[]) AS attempt,
                 unnest(@started_ats::timestamptz[]) AS started_at, unnest(@durations_ms::float8[]) AS duration_ms,
                 unnest(@status_codes::int[]) AS status_code, unnest(@outcomes::text[]) AS outcome,
                 unnest(@errors::text[]) AS error, unnest(@response_bodies::text[]) AS response_body,
                 unnest(@responses_truncated::bool[]) AS response_truncated,
                 unnest(@has_retry::bool[]) AS has_retry, unnest(@next_retry_ats::timestamptz[]) AS next_retry_at,
                 unnest(@device_ids::uuid[]) AS device_id, unnest(@placements::text[]) AS placement,
                 unnest(@inline::bool[]) AS inline) a
    -- A hashed subplan: settled is read once.
    WHERE NOT a.inline OR a.task_run_id NOT IN (SELECT id FROM settled)
    ON CONFLICT (task_run_id, attempt) DO UPDATE SET
        started_at = excluded.started_at,
        duration_ms = excluded.duration_ms,
        status_code = excluded.status_code,
        outcome = excluded.outcome,
        error = excluded.error,
        response_body = excluded.response_body,
        response_truncated = excluded.response_truncated,
        next_retry_at = excluded.next_retry_at,
        device_id = excluded.device_id,
        placement = excluded.placement
)
SELECT id FROM settled;

-- name: ReleaseChildrenMany :many
-- Counts finished parents in their children: child_ids lists a child once
-- per parent that finished, failed_ids once per parent that finished in a
-- failure (those are in child_ids too). A child whose parents have all
-- finished is decided by its run_if: pending (to enqueue) when it accepts
-- its parents' outcomes, skipped when it is a failure handler (any_failed)
-- and none failed. (A child with run_if all_succeeded and a failed parent
-- was made upstream_failed by FailDescendants already.) Returns the children
-- changed.
UPDATE task_runs SET
    pending_parents = pending_parents - c.n,
    failed_parents = failed_parents + c.nf,
    state = CASE
        WHEN pending_parents > c.n THEN state
        WHEN run_if = 'any_failed' AND failed_parents + c.nf = 0 THEN 'skipped'
        WHEN run_if = 'all_succeeded' AND failed_parents + c.nf > 0 THEN 'upstream_failed'
        ELSE 'pending' END,
    finished_at = CASE
        WHEN pending_parents = c.n AND run_if = 'any_failed' AND failed_parents + c.nf = 0 THEN now()
        WHEN pending_parents = c.n AND run_if = 'all_succeeded' AND failed_parents + c.nf > 0 THEN now()
        ELSE finished_at END,
    last_error = CASE
        WHEN pending_parents = c.n AND run_if = 'any_failed' AND failed_parents + c.nf = 0 THEN 'run_if any_failed: no upstream task failed'
        WHEN pending_parents = c.n AND run_if = 'all_succeeded' AND failed_parents + c.nf > 0 THEN 'an upstream task failed'
        ELSE last_error END
FROM (SELECT a.id, count(*)::int AS n, coalesce(max(f.nf), 0)::int AS nf
      FROM unnest(@child_ids::uuid[]) AS a(id)
      LEFT JOIN (SELECT fid, count(*) AS nf FROM unnest(@failed_ids::uuid[]) AS fid GROUP BY fid) f ON f.fid = a.id
      GROUP BY a.id) c
WHERE task_runs.id = c.id AND task_runs.state = 'waiting'
RETURNING task_runs.id, task_runs.run_id, task_runs.task_id, task_runs.spec, task_runs.pending_parents, task_runs.round, task_runs.state, task_runs.child_ids;

-- name: RunsWithUnsettledTasks :many
-- The runs of the given task runs that have not finished: the recorder
-- settles no run that a task it just released (or left waiting) keeps open,
-- so that SettleRuns, which reads all of a run's task runs
-- (task_runs_by_run), runs once per run rather than once per DAG hop.
SELECT DISTINCT run_id FROM task_runs
WHERE id = ANY(@ids::uuid[])
  AND state NOT IN ('succeeded', 'failed', 'upstream_failed', 'cancelled', 'expired', 'skipped');

-- name: TaskRunStates :many
-- Deliveries that waited for their time (StageLead) read their task runs
-- again just before they send, together (jobs.StagedRecheckLead): the runs
-- may have been cancelled meanwhile.
SELECT id, state FROM task_runs WHERE id = ANY(@ids::uuid[]);
