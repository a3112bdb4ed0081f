package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// DefaultTimeoutPollInterval is how often a worker replica looks for runs
// past their deadline: a run times out at most this late (plus the time to
// end it).
const DefaultTimeoutPollInterval = 100 * time.Millisecond

// timeoutBatch is the most runs one sweep ends in one transaction.
const timeoutBatch = 100

// timeoutSweeper ends the runs past their deadline (a job's run_timeout).
// Every worker replica runs one; there is no leader. A sweep is one
// transaction that claims due runs (FOR UPDATE SKIP LOCKED on the partial
// index runs_due, so replicas split them, and a run whose row another
// transaction holds, a recorder settling one of its tasks or a cancel, is
// left to the next sweep) and ends each: its tasks not finished are
// cancelled ("run timed out"), the run ends timed_out, its run-end callback
// is enqueued and the job's queued run starts. A run ends at most once: the
// claim takes only running runs under their row lock, and whatever else ends
// a run (the recorder, a cancel) does so under the same lock from running.
// A delivery on the wire completes; its attempt is recorded but changes
// nothing (its task run is cancelled); deliveries not yet sent find their
// task runs cancelled and send nothing. A replica that dies mid-sweep loses
// its transaction: the runs stay running and the next sweep, on any replica,
// ends them. While the database is away nothing is swept; due runs are ended
// when it returns.
type timeoutSweeper struct {
	pool    *pgxpool.Pool
	ins     Inserter
	logger  *slog.Logger
	metrics *metrics.Metrics
	poll    time.Duration
}

// run sweeps until ctx ends.
func (s *timeoutSweeper) run(ctx context.Context) {
	pollLoop(ctx, s.logger, "ending timed-out runs", s.poll, s.poll, timeoutBatch, s.sweep)
}

// sweep ends the runs due now, up to timeoutBatch, and returns how many.
func (s *timeoutSweeper) sweep(ctx context.Context) (int, error) {
	var ended []*store.Run
	err := store.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ended = ended[:0]
		due, err := store.New(tx).ClaimTimedOutRuns(ctx, timeoutBatch)
		if err != nil {
			return fmt.Errorf("claim timed-out runs: %w", err)
		}
		// Ending a run locks its job (afterRunEnded): in job order, so
		// that two replicas' sweeps cannot deadlock on two jobs.
		slices.SortFunc(due, func(a, b store.Run) int {
			return cmp.Or(compareUUID(a.JobID, b.JobID), compareUUID(a.ID, b.ID))
		})
		for i := range due {
			run, err := timeOutRun(ctx, tx, s.ins, &due[i])
			if err != nil {
				return err
			}
			ended = append(ended, run)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, run := range ended {
		s.metrics.RunEnded(run.State)
		s.logger.InfoContext(ctx, "run timed out", slog.String("run_id", run.ID.String()), slog.String("job_id", run.JobID.String()))
	}
	return len(ended), nil
}

// timeOutRun ends run, running and locked by tx, as timed_out (see
// timeoutSweeper).
func timeOutRun(ctx context.Context, tx pgx.Tx, ins Inserter, run *store.Run) (*store.Run, error) {
	reason := "run timed out"
	if run.Deadline != nil {
		reason = fmt.Sprintf("run timed out (deadline %s)", run.Deadline.UTC().Format(time.RFC3339Nano))
	}
	return endRun(ctx, tx, ins, run, state.RunTimedOut, reason)
}
