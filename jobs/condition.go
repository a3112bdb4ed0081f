package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/condition"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/internal/taskref"
)

// condition evaluates the task's when (a CEL expression) before anything is
// sent: nil when it holds (the delivery goes on), else the record that ends
// the task: skipped (false, no request made) or failed (the expression
// could not be evaluated: the error names it). An error is the database's.
// It runs on every attempt, so a retried task that is still pending
// evaluates it again on the same, settled, upstream outcomes.
func (w *DeliverWorker) condition(ctx context.Context, tr *store.BeginAttemptsRow, task *jobspec.Task, attempt int) (*attemptRecord, error) {
	c, err := condition.Cached(task.When)
	if err != nil {
		return &attemptRecord{attempt: attempt, outcome: state.TaskFailed, err: fmt.Sprintf("condition %q does not compile: %s", task.When, err)}, nil
	}
	var input json.RawMessage
	if c.Input {
		if input, err = runInput(ctx, w.pool, tr.RunID); err != nil {
			return nil, err
		}
	}
	outcomes := map[string]condition.Outcome{}
	if len(c.Tasks) > 0 {
		rows, err := store.New(w.pool).TaskResults(ctx, store.TaskResultsParams{RunID: tr.RunID, TaskIds: c.Tasks})
		if err != nil {
			return nil, fmt.Errorf("load upstream results: %w", err)
		}
		for _, row := range rows {
			o := condition.Outcome{State: string(row.State), Body: row.ResultBody}
			if row.ResultStatus != nil {
				o.Status = int(*row.ResultStatus)
			}
			outcomes[row.TaskID] = o
		}
	}
	ok, err := c.Eval(input, outcomes)
	switch {
	case err != nil:
		return &attemptRecord{attempt: attempt, outcome: state.TaskFailed, err: err.Error()}, nil
	case !ok:
		return &attemptRecord{attempt: attempt, outcome: state.TaskSkipped, err: fmt.Sprintf("condition %q is false", task.When)}, nil
	}
	return nil, nil
}

// runInput is a run's input, nil when it has none.
func runInput(ctx context.Context, pool *pgxpool.Pool, runID uuid.UUID) (json.RawMessage, error) {
	input, err := store.New(pool).RunInput(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("load the run's input: %w", err)
	}
	if string(input) == "null" {
		return nil, nil
	}
	return input, nil
}

// inputResult adds the run's input, when it has one, to the results that
// references are resolved from.
func inputResult(ctx context.Context, pool *pgxpool.Pool, runID uuid.UUID, results map[string]taskref.Result) error {
	input, err := runInput(ctx, pool, runID)
	if err != nil {
		return err
	}
	if input != nil {
		results[taskref.InputKey] = taskref.Result{Body: input}
	}
	return nil
}
