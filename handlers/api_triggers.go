package handlers

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/access"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// triggerRun is POST /v1/jobs/{id}/runs: a run of the job now, outside its
// schedule. Concurrent triggers share transactions (batchedTrigger); one
// with an Idempotency-Key runs in the transaction that also stores its
// response (triggerInTx).
func (a *API) triggerRun() http.HandlerFunc {
	return idempotent(a, http.StatusAccepted, parseJobID, a.triggerInTx,
		endpoint(a, http.StatusAccepted, parseJobID, a.batchedTrigger))
}

// triggerInTx starts the run in tx.
func (a *API) triggerInTx(ctx context.Context, tx pgx.Tx, req *jobIDRequest) (*runResponse, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	run, err := jobs.TriggerRun(ctx, tx, a.inserter, a.trigger(ctx, req))
	if err != nil {
		return nil, jobNotFound(err, req.id)
	}
	return toRunResponse(run), nil
}

// batchedTrigger starts the run together with the triggers that arrive
// while the previous batch is written (startRuns).
func (a *API) batchedTrigger(ctx context.Context, req *jobIDRequest) (*runResponse, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	a.startsOnce.Do(func() { a.starts.Start(context.Background()) })
	item := triggerItem{trigger: a.trigger(ctx, req)}
	if slot, ok := ctx.Value(auditKey{}).(*auditSlot); ok && !slot.recorded {
		if r := requestOf(ctx); r != nil {
			item.audit = a.auditEntry(ctx, r, http.StatusAccepted, "")
		}
	}
	res, err := a.starts.Submit(ctx, item)
	if err == nil {
		err = res.err
	}
	if err != nil {
		return nil, jobNotFound(err, req.id)
	}
	if item.audit != nil {
		ctx.Value(auditKey{}).(*auditSlot).recorded = true // with the batch
	}
	return toRunResponse(res.run), nil
}

// triggerItem is a trigger waiting for its batch, with its audit row.
type triggerItem struct {
	trigger jobs.Trigger
	audit   *access.Entry // nil outside a write request
}

func (a *API) trigger(ctx context.Context, req *jobIDRequest) jobs.Trigger {
	return jobs.Trigger{JobID: req.id, At: a.now(), Parent: trace.SpanContextFromContext(ctx)}
}

// triggerResult is a trigger's run, or why it has none.
type triggerResult struct {
	run *store.Run
	err error
}

// startRuns starts the runs of concurrent triggers in one transaction
// (jobs.TriggerRuns): one read of their jobs, one insert of their runs, one
// of their task runs and one River insert of their deliveries, then one
// commit, instead of all of that per trigger. A trigger of a job that does
// not exist gets its 404 alone.
func (a *API) startRuns(ctx context.Context, items []triggerItem) ([]triggerResult, error) {
	out := make([]triggerResult, len(items))
	triggers := make([]jobs.Trigger, len(items))
	for i := range items {
		triggers[i] = items[i].trigger
	}
	err := store.InTx(ctx, a.pool, func(tx pgx.Tx) error {
		runs, errs, err := jobs.TriggerRuns(ctx, tx, a.inserter, triggers)
		if err != nil {
			return err
		}
		for i := range out {
			out[i] = triggerResult{run: runs[i], err: errs[i]}
			if e := items[i].audit; e != nil && runs[i] != nil {
				e.ObjectID = runs[i].ID.String()
				if err := access.Audit(ctx, tx, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}
