package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// jobRow is a job the suite registered, as the database has it.
type jobRow struct {
	ID, Kind, Key string
	CreatedAt     time.Time
	MissedTicks   int64
}

// runRow is a run.
type runRow struct {
	ID, JobID, Trigger, State string
	ScheduledFor              time.Time
}

// taskRunRow is a task run.
type taskRunRow struct {
	ID, RunID, TaskID, State string
}

// history is herald's record of the run, read from its tables (the
// database is the run's own: everything in it is the suite's).
type history struct {
	jobs     map[string]jobRow
	runs     []runRow
	taskRuns []taskRunRow
}

// readHistory reads the jobs the suite registered (labelled labelKind),
// every run and every task run.
func readHistory(ctx context.Context, pool *pgxpool.Pool) (*history, error) {
	h := &history{jobs: map[string]jobRow{}}
	rows, err := pool.Query(ctx, `SELECT id::text, labels->>'`+labelKind+`', coalesce(labels->>'`+labelKey+`', ''), created_at, missed_ticks
		FROM jobs WHERE labels ? '`+labelKind+`'`)
	if err != nil {
		return nil, err
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (jobRow, error) {
		var j jobRow
		err := row.Scan(&j.ID, &j.Kind, &j.Key, &j.CreatedAt, &j.MissedTicks)
		return j, err
	})
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		h.jobs[j.ID] = j
	}
	rows, err = pool.Query(ctx, `SELECT id::text, job_id::text, trigger, state, scheduled_for FROM runs`)
	if err != nil {
		return nil, err
	}
	if h.runs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (runRow, error) {
		var r runRow
		err := row.Scan(&r.ID, &r.JobID, &r.Trigger, &r.State, &r.ScheduledFor)
		return r, err
	}); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT id::text, run_id::text, task_id, state FROM task_runs`)
	if err != nil {
		return nil, err
	}
	h.taskRuns, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (taskRunRow, error) {
		var t taskRunRow
		err := row.Scan(&t.ID, &t.RunID, &t.TaskID, &t.State)
		return t, err
	})
	return h, err
}
