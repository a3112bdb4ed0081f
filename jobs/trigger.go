package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/store"
)

// Trigger asks for a manual run of a job (POST /v1/jobs/{id}/runs).
type Trigger struct {
	// JobID is the job to run.
	JobID uuid.UUID
	// At is the run's nominal time: when it was asked for.
	At time.Time
	// Parent is the span the run's span is a child of (the request).
	Parent trace.SpanContext
	// Input is the run's input ({{ input.<path> }}, conditions); nil for
	// none.
	Input json.RawMessage
	// Trigger is what started the run: TriggerManual (the default) or
	// TriggerInbound.
	Trigger string
}

// TriggerRun starts a manual run of the trigger's job in tx.
func TriggerRun(ctx context.Context, tx pgx.Tx, ins Inserter, t Trigger) (*store.Run, error) {
	j, err := store.New(tx).GetJob(ctx, t.JobID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrJobNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read job: %w", err)
	}
	return startRun(trace.ContextWithSpanContext(ctx, t.Parent), tx, ins, &j, cmp.Or(t.Trigger, TriggerManual), t.At, t.Input)
}

// TriggerRuns starts the runs of many triggers in tx, as StartRuns does (one
// read of their jobs, one insert each of runs, task runs and deliveries). It
// returns a run per trigger, in order, nil with ErrJobNotFound in errs for a
// trigger of a job that does not exist, which fails alone.
func TriggerRuns(ctx context.Context, tx pgx.Tx, ins Inserter, triggers []Trigger) (runs []*store.Run, errs []error, err error) {
	ids := make([]uuid.UUID, len(triggers))
	for i, t := range triggers {
		ids[i] = t.JobID
	}
	found, err := store.New(tx).GetJobs(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("read jobs: %w", err)
	}
	byID := make(map[uuid.UUID]*store.Job, len(found))
	for i := range found {
		byID[found[i].ID] = &found[i]
	}
	runs, errs = make([]*store.Run, len(triggers)), make([]error, len(triggers))
	var reqs []RunRequest
	var of []int // the trigger of each request
	for i, t := range triggers {
		j, ok := byID[t.JobID]
		if !ok {
			errs[i] = ErrJobNotFound
			continue
		}
		reqs = append(reqs, RunRequest{Job: j, ScheduledFor: t.At, Parent: t.Parent, Input: t.Input, Trigger: t.Trigger})
		of = append(of, i)
	}
	started, err := StartRuns(ctx, tx, ins, reqs)
	if err != nil {
		return nil, nil, err
	}
	for k, run := range started {
		runs[of[k]] = run
	}
	return runs, errs, nil
}
