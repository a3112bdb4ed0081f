package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// settlePoll is how often the history is looked at while it settles.
const settlePoll = 500 * time.Millisecond

// unsettledQuery counts what is still to happen: task runs not final, and
// runs running or queued.
const unsettledQuery = `
SELECT (SELECT count(*) FROM task_runs
        WHERE state NOT IN ('succeeded', 'failed', 'upstream_failed', 'cancelled'))
     + (SELECT count(*) FROM runs WHERE state IN ('running', 'queued'))`

// waitQuiet waits until the last one-off is due and nothing is left to
// happen, or bound passes. It reports whether the history became quiet; a
// query that fails is tried again.
func waitQuiet(ctx context.Context, pool *pgxpool.Pool, lastDue time.Time, bound time.Duration) (bool, error) {
	deadline := time.Now().Add(bound)
	for {
		if !time.Now().Before(lastDue) {
			var left int64
			if err := pool.QueryRow(ctx, unsettledQuery).Scan(&left); err == nil && left == 0 {
				return true, nil
			}
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		if err := sleep(ctx, settlePoll); err != nil {
			return false, err
		}
	}
}
