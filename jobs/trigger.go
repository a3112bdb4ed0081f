package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
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
//
// The single-task jobs it reads are kept (keptJobs): a later call whose
// jobs are all kept reads none, and its insert checks that they have not
// changed. When one has, the error is a conflict (store.Conflict) and the
// kept jobs of the call are forgotten: run the transaction again.
func TriggerRuns(ctx context.Context, tx pgx.Tx, ins Inserter, triggers []Trigger) (runs []*store.Run, errs []error, err error) {
	kept := keptJobsOf(ins)
	byID := make(map[uuid.UUID]*store.Job, len(triggers))
	versions := map[uuid.UUID]string{} // of the jobs kept, not read here
	var read []uuid.UUID
	for _, t := range triggers {
		if _, ok := byID[t.JobID]; ok {
			continue
		}
		if k, ok := kept.get(t.JobID); ok {
			byID[t.JobID], versions[t.JobID] = k.job, k.version
			continue
		}
		byID[t.JobID] = nil // read below, or not found
		read = append(read, t.JobID)
	}
	if len(read) > 0 {
		found, err := store.New(tx).GetJobsVersioned(ctx, read)
		if err != nil {
			return nil, nil, fmt.Errorf("read jobs: %w", err)
		}
		solos := solosOf(ins)
		for i := range found {
			j := &found[i].Job
			byID[j.ID] = j
			if solo, _ := solos.get(j.Tasks); solo.ok {
				kept.put(j, found[i].Version) // a committed version, whatever becomes of tx
			}
		}
	}
	runs, errs = make([]*store.Run, len(triggers)), make([]error, len(triggers))
	var reqs []RunRequest
	var of []int // the trigger of each request
	for i, t := range triggers {
		j := byID[t.JobID]
		if j == nil {
			errs[i] = ErrJobNotFound
			continue
		}
		reqs = append(reqs, RunRequest{Job: j, ScheduledFor: t.At, Parent: t.Parent, Input: t.Input, Trigger: t.Trigger, ReadVersion: versions[t.JobID]})
		of = append(of, i)
	}
	started, err := StartRuns(ctx, tx, ins, reqs)
	if err != nil {
		if store.Conflict(err) {
			kept.forget(slices.Collect(maps.Keys(versions)))
		}
		return nil, nil, err
	}
	for k, run := range started {
		runs[of[k]] = run
	}
	return runs, errs, nil
}
