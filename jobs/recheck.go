package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/batch"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// StagedRecheckLead is how long before its nominal time a staged delivery
// (one that waits in its worker from StageLead before it) reads its task run
// again. River cancels a waiting delivery through a notification, which can
// come late or not at all (its listener reconnecting); the task run,
// cancelled by a pause, an update, a delete or a run's cancel, says it too.
// The reads of the deliveries due in one instant (a thousand ticks of one
// second) share a few statements (group commit) and are done before the
// instant, so the instant itself has only the requests to send. A run
// cancelled within this lead of its time is still caught by River's
// notification when that arrives first.
const StagedRecheckLead = 50 * time.Millisecond

// recheckBatch bounds the task runs one recheck statement reads.
const recheckBatch = 1000

// newRechecks returns the batcher of staged deliveries' rechecks: the state
// of each task run asked for, "" for one that is gone (its job deleted with
// its history).
func newRechecks(pool *pgxpool.Pool) *batch.Batcher[uuid.UUID, state.Task] {
	return batch.New(recheckBatch, batchFlushers, func(ctx context.Context, ids []uuid.UUID) ([]state.Task, error) {
		rows, err := store.New(pool).TaskRunStates(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("read task runs after the wait: %w", err)
		}
		byID := make(map[uuid.UUID]state.Task, len(rows))
		for _, r := range rows {
			byID[r.ID] = r.State
		}
		out := make([]state.Task, len(ids))
		for i, id := range ids {
			out[i] = byID[id]
		}
		return out, nil
	})
}

// awaitNominal holds the staged delivery of task run id until its nominal
// time t by the database's clock. When it waited until StagedRecheckLead
// before t, it reads the task run again (rechecks) and ends the job
// cancelled if the run was cancelled or deleted meanwhile.
func (w *DeliverWorker) awaitNominal(ctx context.Context, id uuid.UUID, t time.Time) error {
	if waited, err := w.sleepUntil(ctx, t.Add(-StagedRecheckLead)); err != nil {
		return err
	} else if waited {
		st, err := w.rechecks.Submit(ctx, id)
		switch {
		case err != nil:
			return laterIfUnavailable(ctx, err)
		case st == "":
			return river.JobCancel(fmt.Errorf("task run %s is gone", id))
		case st.Final():
			return river.JobCancel(fmt.Errorf("task run %s is %s", id, st))
		}
	}
	_, err := w.sleepUntil(ctx, t)
	return err
}
