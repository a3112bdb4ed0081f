package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/herald-sched/herald/internal/state"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// ErrRunNotFound is returned for an unknown run id.
var ErrRunNotFound = errors.New("run not found")

// StateError says a run is not in a state the operation applies to.
type StateError struct {
	// State is the run's state.
	State state.Run
	// Want describes the states the operation needs.
	Want string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("the run is %s; this applies to %s runs", e.State, e.Want)
}

// lockRun reads a run under its row lock: task completions, cancel and
// retry of one run happen one at a time.
func lockRun(ctx context.Context, tx pgx.Tx, runID uuid.UUID) (*store.Run, error) {
	q := store.New(tx)
	if _, err := q.LockRun(ctx, runID); errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrRunNotFound
	} else if err != nil {
		return nil, fmt.Errorf("lock run: %w", err)
	}
	run, err := q.GetRun(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	return &run, nil
}

// CancelRun cancels a running or queued run: its tasks that have not
// finished end as cancelled, and nothing of it is delivered any more. A
// delivery in flight completes on the wire, but its outcome changes nothing.
// The job's next queued run, if any, starts.
func CancelRun(ctx context.Context, tx pgx.Tx, ins Inserter, runID uuid.UUID) (*store.Run, error) {
	run, err := lockRun(ctx, tx, runID)
	if err != nil {
		return nil, err
	}
	if run.State != state.RunRunning && run.State != state.RunQueued {
		return nil, &StateError{State: run.State, Want: "running or queued"}
	}
	return endRun(ctx, tx, ins, run, state.RunCancelled, "run cancelled")
}

// endRun ends run, whose row tx holds, in state st: its tasks that have not
// finished end cancelled with reason as their error (their deliveries, when
// a worker takes them, find nothing to do; a request on the wire completes,
// its outcome recorded but changing nothing), its run-end callback is
// enqueued, and the job's next queued run, if any, starts.
func endRun(ctx context.Context, tx pgx.Tx, ins Inserter, run *store.Run, st state.Run, reason string) (*store.Run, error) {
	q := store.New(tx)
	if err := q.CancelTaskRuns(ctx, store.CancelTaskRunsParams{RunID: run.ID, Reason: reason}); err != nil {
		return nil, fmt.Errorf("cancel tasks: %w", err)
	}
	ended, err := q.EndRun(ctx, store.EndRunParams{ID: run.ID, State: st})
	if err != nil {
		return nil, fmt.Errorf("end run: %w", err)
	}
	if err := enqueueCallbacks(ctx, tx, ins, []store.Run{ended}); err != nil {
		return nil, err
	}
	if err := afterRunEnded(ctx, tx, ins, run.JobID); err != nil {
		return nil, err
	}
	return &ended, nil
}

// RetryRun re-runs the failed, upstream_failed and cancelled tasks of a
// finished (failed, cancelled or timed_out) run, keeping the tasks that
// succeeded or were skipped, and their results. Attempt numbers continue
// where they stopped; webhook-ids stay the same. The run's deadline counts
// again from now, and its next end calls its run-end callback again (a new
// round: a new webhook-id).
func RetryRun(ctx context.Context, tx pgx.Tx, ins Inserter, runID uuid.UUID) (*store.Run, error) {
	run, err := lockRun(ctx, tx, runID)
	if err != nil {
		return nil, err
	}
	if run.State != state.RunFailed && run.State != state.RunCancelled && run.State != state.RunTimedOut {
		return nil, &StateError{State: run.State, Want: "failed, cancelled or timed_out"}
	}
	q := store.New(tx)
	hj, err := q.GetJobAny(ctx, run.JobID)
	if err != nil {
		return nil, fmt.Errorf("read job: %w", err)
	}
	taskRuns, err := q.ListTaskRuns(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	// The retry's attempts are a trace of their own: the retry's span, a
	// child of the request that asked for it.
	_, span := startRunSpan(ctx, tracerOf(ins), hj.ID, runID, retrySpan, run.ScheduledFor)
	defer span.End()
	target := flowTarget{jobID: hj.ID, flow: flowOf(&hj), solo: len(taskRuns) == 1, trace: traceMetadata(span.SpanContext())}
	succeeded := make(map[string]bool, len(taskRuns)) // or skipped: done without failure
	for _, tr := range taskRuns {
		if tr.State == state.TaskSucceeded || tr.State == state.TaskSkipped {
			succeeded[tr.TaskID] = true
		}
	}
	var reset store.ResetTaskRunsParams
	var deliveries []river.InsertManyParams
	type fleetRetry struct {
		id   uuid.UUID
		task jobspec.Task
	}
	var fleets []fleetRetry // fleet tasks to start again: their failed members go again
	for _, tr := range taskRuns {
		if succeeded[tr.TaskID] {
			continue
		}
		var task jobspec.Task
		if err := json.Unmarshal(tr.Spec, &task); err != nil {
			return nil, fmt.Errorf("decode task %s: %w", tr.TaskID, err)
		}
		pending := 0
		for _, p := range task.DependsOn {
			if !succeeded[p] {
				pending++
			}
		}
		st := state.TaskWaiting
		switch {
		case pending > 0:
		case task.IsFleet():
			st = state.TaskPending
			fleets = append(fleets, fleetRetry{id: tr.ID, task: task})
		default:
			st = state.TaskPending
			deliveries = append(deliveries, deliveryParams(tr.ID, &task, target, int(tr.Attempts), int(tr.Round)+1))
		}
		reset.Ids = append(reset.Ids, tr.ID)
		reset.States = append(reset.States, string(st))
		reset.PendingParents = append(reset.PendingParents, int32(pending))
	}
	if err := q.ResetTaskRuns(ctx, reset); err != nil {
		return nil, fmt.Errorf("reset tasks: %w", err)
	}
	reopened, err := q.ReopenRun(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("reopen run: %w", err)
	}
	for _, f := range fleets {
		if err := startFleet(ctx, tx, ins, runID, hj.ID, f.id, &f.task, deliveryTrace{run: span.SpanContext()}); err != nil {
			return nil, err
		}
	}
	if err := enqueueDeliveries(ctx, tx, ins, deliveries); err != nil {
		return nil, err
	}
	return &reopened, nil
}

// CancelPreparedRuns cancels the runs of ticks handled ahead of their time
// (FireLead) that have not started: called when the job is paused, updated or
// deleted, so that no tick fires after that. A delivery already taken by a
// worker, waiting for its time (StageLead), is cancelled through River: the
// worker's context ends, in whichever replica it runs, when tx commits.
func CancelPreparedRuns(ctx context.Context, tx pgx.Tx, ins Inserter, jobID uuid.UUID) error {
	ids, err := store.New(tx).PreparedRuns(ctx, jobID)
	if err != nil {
		return fmt.Errorf("find prepared runs: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if _, err := CancelRun(ctx, tx, ins, id); err != nil {
			return err
		}
	}
	staged, err := store.StagedDeliveryJobs(ctx, tx, QueueDeliver, (DeliverArgs{}).Kind(), ids)
	if err != nil {
		return err
	}
	for _, id := range staged {
		if _, err := ins.JobCancelTx(ctx, tx, id); err != nil {
			return fmt.Errorf("cancel staged delivery: %w", err)
		}
	}
	return nil
}

// ReplayFilter selects failed runs to retry (POST /v1/runs/replay).
type ReplayFilter struct {
	// JobID, when set, is the runs' job.
	JobID *uuid.UUID
	// From and To, when set, bound the runs' creation time: [From, To).
	From, To *time.Time
	// Limit is the most runs retried.
	Limit int
	// JobLabels, when set, limit the runs to those of jobs carrying all of
	// them (a key limited to labels).
	JobLabels map[string]string
}

// ReplayRuns retries, in tx, the failed runs the filter selects, oldest
// first, as RetryRun does, and returns their ids.
func ReplayRuns(ctx context.Context, tx pgx.Tx, ins Inserter, f ReplayFilter) ([]uuid.UUID, error) {
	p := store.FailedRunsForReplayParams{JobID: f.JobID, From: f.From, To: f.To, MaxRows: int32(f.Limit)}
	if len(f.JobLabels) > 0 {
		var err error
		if p.JobLabels, err = json.Marshal(f.JobLabels); err != nil {
			return nil, err
		}
	}
	ids, err := store.New(tx).FailedRunsForReplay(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("find failed runs: %w", err)
	}
	for _, id := range ids {
		if _, err := RetryRun(ctx, tx, ins, id); err != nil {
			return nil, fmt.Errorf("replay run %s: %w", id, err)
		}
	}
	return ids, nil
}
