package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// begin marks the attempt of a task run begun, as a delivery does.
func (b *testBundle) begin(t *testing.T, tr store.TaskRun, attempt int) *store.BeginAttemptsRow {
	t.Helper()
	rows, err := beginAttempts(context.Background(), b.pool, []beginItem{{id: tr.ID, round: tr.Round, attempt: int32(attempt)}})
	require.NoError(t, err)
	require.NotNil(t, rows[0], "the attempt did not begin")
	return rows[0]
}

// record records attempts as the recorder's batch does.
func (b *testBundle) record(t *testing.T, items ...*finishItem) {
	t.Helper()
	rec := &recorder{pool: b.pool, client: b.client}
	_, err := rec.record(context.Background(), items)
	require.NoError(t, err)
}

func answered(status int, outcome dispatch.Outcome) *dispatch.Result {
	return &dispatch.Result{StatusCode: status, Outcome: outcome, Duration: 3 * time.Millisecond}
}

func (b *testBundle) runState(t *testing.T, id any) state.Run {
	t.Helper()
	var s state.Run
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT state FROM runs WHERE id = $1`, id).Scan(&s))
	return s
}

func TestRecorderReleasesChildrenAndEndsTheRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.startRun(t, task("a"), task("b", "a"))
	trs := b.taskRuns(t, run.ID)
	require.Equal(t, state.TaskPending, trs["a"].State)
	require.Equal(t, state.TaskWaiting, trs["b"].State)

	a := b.begin(t, trs["a"], 1)
	b.record(t, &finishItem{tr: a, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	trs = b.taskRuns(t, run.ID)
	require.Equal(t, state.TaskSucceeded, trs["a"].State)
	require.Equal(t, state.TaskPending, trs["b"].State, "the child is released")
	var deliveries int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE args->>'task_run_id' = $1`, trs["b"].ID.String()).Scan(&deliveries))
	require.Equal(t, 1, deliveries, "the child's delivery is enqueued in the same transaction")
	require.Equal(t, state.RunRunning, b.runState(t, run.ID))

	bb := b.begin(t, trs["b"], 1)
	b.record(t, &finishItem{tr: bb, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(204, dispatch.Success)}})
	require.Equal(t, state.RunSucceeded, b.runState(t, run.ID))
}

func TestRecorderFailsDescendantsAndTheRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.startRun(t, task("a"), task("b", "a"), task("c", "b"), task("side"))
	trs := b.taskRuns(t, run.ID)
	a := b.begin(t, trs["a"], 1)
	b.record(t, &finishItem{tr: a, rec: attemptRecord{attempt: 1, outcome: state.TaskFailed, started: time.Now(), res: answered(400, dispatch.Permanent), err: "HTTP 400"}})
	trs = b.taskRuns(t, run.ID)
	require.Equal(t, state.TaskFailed, trs["a"].State)
	require.Equal(t, state.TaskUpstreamFailed, trs["b"].State)
	require.Equal(t, state.TaskUpstreamFailed, trs["c"].State)
	require.Equal(t, state.RunRunning, b.runState(t, run.ID), "an independent branch is still going")

	side := b.begin(t, trs["side"], 1)
	b.record(t, &finishItem{tr: side, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	require.Equal(t, state.RunFailed, b.runState(t, run.ID))
}

// The record of an attempt that is no longer the task run's latest (its
// replica was declared dead, and the delivery attempted again) is kept as
// an attempt but decides nothing.
func TestRecorderIgnoresAStaleAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.startRun(t, task("a"), task("b", "a"))
	trs := b.taskRuns(t, run.ID)
	stale := b.begin(t, trs["a"], 1)
	b.begin(t, trs["a"], 2) // the successor's attempt
	b.record(t, &finishItem{tr: stale, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	trs = b.taskRuns(t, run.ID)
	require.Equal(t, state.TaskRunning, trs["a"].State, "the stale attempt settled the task run")
	require.Equal(t, state.TaskWaiting, trs["b"].State, "the stale attempt released the child")
	var outcome state.Outcome
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT outcome FROM attempts WHERE task_run_id = $1 AND attempt = 1`, trs["a"].ID).Scan(&outcome))
	require.Equal(t, state.OutcomeSucceeded, outcome, "what happened is kept")
}
