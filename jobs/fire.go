package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/store"
)

// FireArgs is one tick of a job's schedule: at FireAt, start a run of JobID.
type FireArgs struct {
	// JobID is the job to run.
	JobID uuid.UUID `json:"job_id"`
	// FireAt is the tick's nominal time (UTC), the run's scheduled_for.
	FireAt time.Time `json:"fire_at"`
}

// Kind is the River job kind of a tick.
func (FireArgs) Kind() string { return "herald.fire" }

// InsertOpts puts ticks on the fire queue, once per (job, tick).
func (FireArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueFire, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// FireWorker starts the run of a due tick.
type FireWorker struct {
	river.WorkerDefaults[FireArgs]

	pool   *pgxpool.Pool
	logger *slog.Logger
}

// Work creates the tick's run and enqueues its first tasks, in the same
// transaction that completes the tick: the run exists if and only if the tick
// is done. A job deleted, paused or rescheduled since the tick was enqueued
// gets no run.
func (w *FireWorker) Work(ctx context.Context, job *river.Job[FireArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		hj, err := q.LockJobForFire(ctx, job.Args.JobID)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = river.JobCompleteTx[*riverDriver](ctx, tx, job)
			return err
		}
		if err != nil {
			return fmt.Errorf("lock job: %w", err)
		}
		due := hj.NextFireAt != nil && hj.NextFireAt.Equal(job.Args.FireAt)
		if hj.DeletedAt == nil && !hj.Paused && due {
			run, err := StartRun(ctx, tx, client, &hj, TriggerSchedule, job.Args.FireAt)
			switch {
			case errors.Is(err, ErrTickTaken):
				w.logger.DebugContext(ctx, "tick already has a run", slog.String("job_id", hj.ID.String()))
			case err != nil:
				return err
			default:
				w.logger.DebugContext(ctx, "run started", slog.String("job_id", hj.ID.String()), slog.String("run_id", run.ID.String()))
			}
			// One-off schedules have no next tick.
			if err := q.SetJobNextFire(ctx, store.SetJobNextFireParams{ID: hj.ID}); err != nil {
				return fmt.Errorf("clear next fire: %w", err)
			}
		}
		_, err = river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
}
