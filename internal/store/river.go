package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// River's tables (river_job, river_queue) belong to River: its migrations
// create them and its client writes them. They are not in sqlc's schema.
// This file is the one place where herald reads or writes them directly,
// for what River's API does not offer:
//
//   - reclaim on heartbeat (jobs.Reclaim): the running jobs a dead replica
//     was working (HeldJobs) are cancelled with a reason (CancelRiverJobs)
//     and enqueued again through River;
//   - cancelling a run cancels its deliveries that wait in a worker for
//     their nominal time (StagedDeliveryJobs; the cancel is River's
//     JobCancelTx);
//   - a clean exit waits for the deliveries staged by its ticker to be
//     fetched (DueDeliveries);
//   - the queue backlog metrics (QueueBacklog).
//
// The columns relied on are River's documented job row (rivertype.JobRow):
// id, kind, queue, state, args, attempt, attempted_at, attempted_by (River
// appends the fetching client's id, which is the replica's id),
// max_attempts, metadata, scheduled_at, finalized_at and errors; and
// river_queue.name. A River upgrade that changes them breaks the tests of
// jobs (reclaim, cancel) and internal/metrics. Besides these statements,
// two migrations touch River's table: 0002 adds an index for River's fetch
// of due jobs, 0009 deleted the jobs of a kind herald no longer has.

// RiverJob is a running River job as a reclaim reads it.
type RiverJob struct {
	ID          int64
	Kind        string
	Args        []byte
	Attempt     int16
	AttemptedAt time.Time
	MaxAttempts int16
	Metadata    []byte
}

// heldJobs are the running jobs of the given queues (and, when kind is not
// empty, of that kind) that a replica is working: the last fetcher in
// attempted_by. Locked, so that a concurrent cancel waits for the reclaim.
const heldJobs = `
SELECT id, kind, args, attempt::int2, attempted_at, max_attempts::int2, metadata
FROM river_job
WHERE state = 'running' AND queue = ANY($1::text[]) AND ($2::text = '' OR kind = $2)
  AND attempted_by[array_upper(attempted_by, 1)] = $3
ORDER BY id
FOR UPDATE`

// HeldJobs returns, locked in tx, the running jobs of queues (of kind, when
// not empty) last fetched by the replica, by id.
func HeldJobs(ctx context.Context, tx pgx.Tx, queues []string, kind, replica string) ([]RiverJob, error) {
	rows, err := tx.Query(ctx, heldJobs, queues, kind, replica)
	if err != nil {
		return nil, fmt.Errorf("find held jobs: %w", err)
	}
	held, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RiverJob])
	if err != nil {
		return nil, fmt.Errorf("find held jobs: %w", err)
	}
	return held, nil
}

// cancelRiverJobs ends running jobs as cancelled, with the reason in River's
// error list (River's UI shows it).
const cancelRiverJobs = `
UPDATE river_job SET
    state = 'cancelled',
    finalized_at = now(),
    errors = array_append(errors, jsonb_build_object(
        'at', now(), 'attempt', attempt, 'error', $2::text, 'trace', ''))
WHERE id = ANY($1::bigint[]) AND state = 'running'`

// CancelRiverJobs cancels, in tx, the jobs ids that are still running,
// giving reason. River's JobCancelTx cancels one job and, for a running
// one, only asks its worker to stop; a reclaim needs the rows final at
// once, since their worker died.
func CancelRiverJobs(ctx context.Context, tx pgx.Tx, ids []int64, reason string) error {
	if _, err := tx.Exec(ctx, cancelRiverJobs, ids, reason); err != nil {
		return fmt.Errorf("cancel reclaimed jobs: %w", err)
	}
	return nil
}

// stagedDeliveryJobs are the running jobs of a queue and kind whose
// task_run_id argument is a task run of the given runs.
const stagedDeliveryJobs = `
SELECT j.id FROM river_job j
WHERE j.state = 'running' AND j.queue = $1 AND j.kind = $2
  AND (j.args->>'task_run_id')::uuid IN (SELECT t.id FROM task_runs t WHERE t.run_id = ANY($3::uuid[]))`

// StagedDeliveryJobs returns the ids of the running delivery jobs (queue,
// kind) of the runs' task runs: a delivery staged for its nominal time is
// running in a worker that waits.
func StagedDeliveryJobs(ctx context.Context, tx pgx.Tx, queue, kind string, runs []uuid.UUID) ([]int64, error) {
	rows, err := tx.Query(ctx, stagedDeliveryJobs, queue, kind, runs)
	if err != nil {
		return nil, fmt.Errorf("find staged deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("find staged deliveries: %w", err)
	}
	return ids, nil
}

// DueDeliveries reports whether queue holds an available job scheduled at
// or before at: one no worker has fetched yet.
func DueDeliveries(ctx context.Context, db DBTX, queue string, at time.Time) (bool, error) {
	var waiting bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_job
		WHERE queue = $1 AND state = 'available' AND scheduled_at <= $2)`, queue, at).Scan(&waiting)
	return waiting, err
}

// QueueBacklogRow is one queue's backlog: its due jobs and the age of the
// oldest.
type QueueBacklogRow struct {
	Queue string
	Due   int64
	Age   float64 // seconds
}

// queueBacklog is each queue's available jobs that are due, with the age
// of the oldest, and zeros for every other queue River has registered.
const queueBacklog = `
WITH due AS (
	SELECT queue, count(*) AS n, coalesce(extract(epoch FROM now() - min(scheduled_at)), 0)::float8 AS age
	FROM river_job WHERE state = 'available' AND scheduled_at <= now() GROUP BY queue)
SELECT queue, n, age FROM due
UNION ALL
SELECT name, 0, 0 FROM river_queue WHERE name NOT IN (SELECT queue FROM due)`

// QueueBacklog returns each queue's backlog: the queues with due jobs,
// and with zeros every other queue River has registered (river_queue).
func QueueBacklog(ctx context.Context, db DBTX) ([]QueueBacklogRow, error) {
	rows, err := db.Query(ctx, queueBacklog)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[QueueBacklogRow])
}
