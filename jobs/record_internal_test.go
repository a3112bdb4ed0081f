package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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

// A single-task run that ends starts the run queued behind it even when its
// job no longer says overlap=queue (the run was queued under an earlier
// definition): EndSoloRuns reports the queued run, with no lookup of its own.
func TestRecorderStartsARunQueuedUnderAnEarlierDefinition(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	run := b.startRun(t, task("a")) // overlap allow, the default
	var queuedID uuid.UUID
	require.NoError(t, b.pool.QueryRow(ctx, `
		INSERT INTO runs (id, job_id, trigger, state, scheduled_for) VALUES (gen_random_uuid(), $1, 'manual', 'queued', now())
		RETURNING id`, run.JobID).Scan(&queuedID))

	a := b.begin(t, b.taskRuns(t, run.ID)["a"], 1)
	b.record(t, &finishItem{tr: a, solo: true, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	require.Equal(t, state.RunSucceeded, b.runState(t, run.ID))
	require.Equal(t, state.RunRunning, b.runState(t, queuedID), "the queued run starts")
	require.Contains(t, b.taskRuns(t, queuedID), "a", "with its task run")
}

// A task run that succeeds by an attempt to a URL keeps the attempt in
// itself, not as a row (migration 0023), and the API's lists show it like a
// row; an attempt of the same number recorded lost by a reclaim gives way to
// it. A failed attempt keeps its row.
func TestRecorderKeepsASuccessInTheTaskRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	run := b.startRun(t, task("a"))
	tr := b.taskRuns(t, run.ID)["a"]

	first := b.begin(t, tr, 1)
	failed := &finishItem{tr: first, solo: true, rec: attemptRecord{attempt: 1, outcome: state.TaskRetrying, started: time.Now(), res: answered(503, dispatch.Retryable), err: "HTTP 503"}}
	b.record(t, failed)
	second := b.begin(t, tr, 2)
	// A reclaim recorded attempt 2 lost before its record arrived.
	_, err := store.New(b.pool).LoseAttempts(ctx, store.LoseAttemptsParams{
		Ids: []uuid.UUID{tr.ID}, Attempts: []int32{2}, StartedAts: []time.Time{time.Now()}, Error: "replica lost",
	})
	require.NoError(t, err)
	b.record(t, &finishItem{tr: second, solo: true, rec: attemptRecord{attempt: 2, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	require.Equal(t, state.RunSucceeded, b.runState(t, run.ID))

	var okAttempt *int32
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT ok_attempt FROM task_runs WHERE id = $1`, tr.ID).Scan(&okAttempt))
	require.NotNil(t, okAttempt)
	require.Equal(t, int32(2), *okAttempt)

	byRun, err := store.New(b.pool).ListRunAttempts(ctx, run.ID)
	require.NoError(t, err)
	byTaskRun, err := store.New(b.pool).ListAttemptsOf(ctx, []uuid.UUID{tr.ID})
	require.NoError(t, err)
	for _, got := range [][]store.Attempt{byRun, byTaskRun} {
		require.Len(t, got, 2)
		require.Equal(t, int32(1), got[0].Attempt)
		require.Equal(t, state.OutcomeRetrying, got[0].Outcome)
		require.Equal(t, int32(2), got[1].Attempt)
		require.Equal(t, state.OutcomeSucceeded, got[1].Outcome, "the success, not the lost row")
		require.NotNil(t, got[1].StatusCode)
		require.Equal(t, int32(200), *got[1].StatusCode)
	}
}

// A single-task run ends with its task run only when the record moved the
// task run: EndSoloRuns checks the task run's state and attempt itself
// (it goes out with RecordAndSettle, before its result is read).
func TestSoloRunEndsOnlyWithTheRecordThatMovesItsTask(t *testing.T) {
	t.Parallel()
	ok := func(attempt int) attemptRecord {
		return attemptRecord{attempt: attempt, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}
	}

	t.Run("CancelledMeanwhile", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		run := b.startRun(t, task("only"))
		begun := b.begin(t, b.taskRuns(t, run.ID)["only"], 1)
		b.tx(t, func(tx pgx.Tx) error {
			_, err := CancelRun(context.Background(), tx, b.client, run.ID)
			return err
		})
		b.record(t, &finishItem{tr: begun, solo: true, rec: ok(1)})
		require.Equal(t, state.RunCancelled, b.runState(t, run.ID))
		require.Equal(t, state.TaskCancelled, b.taskRuns(t, run.ID)["only"].State)
	})

	// Batches on both sides of recordBlindMax, one run cancelled in each.
	for _, n := range []int{3, recordBlindMax + 1} {
		t.Run(fmt.Sprintf("BatchOf%d", n), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var runs []*store.Run
			var items []*finishItem
			for i := range n {
				run := b.startRun(t, task("only"))
				runs = append(runs, run)
				items = append(items, &finishItem{tr: b.begin(t, b.taskRuns(t, run.ID)["only"], 1), solo: true, rec: ok(1)})
				if i == 1 {
					b.tx(t, func(tx pgx.Tx) error {
						_, err := CancelRun(context.Background(), tx, b.client, run.ID)
						return err
					})
				}
			}
			b.record(t, items...)
			for i, run := range runs {
				want := state.RunSucceeded
				if i == 1 {
					want = state.RunCancelled
				}
				require.Equal(t, want, b.runState(t, run.ID), "run %d", i)
			}
		})
	}

	t.Run("AttemptedAgainMeanwhile", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		run := b.startRun(t, task("only"))
		first := b.begin(t, b.taskRuns(t, run.ID)["only"], 1)
		second := b.begin(t, b.taskRuns(t, run.ID)["only"], 2) // reclaimed, sent again
		b.record(t, &finishItem{tr: first, solo: true, rec: ok(1)})
		require.Equal(t, state.RunRunning, b.runState(t, run.ID), "the older attempt's record does not decide")
		require.Equal(t, state.TaskRunning, b.taskRuns(t, run.ID)["only"].State)
		b.record(t, &finishItem{tr: second, solo: true, rec: ok(2)})
		require.Equal(t, state.RunSucceeded, b.runState(t, run.ID))
	})
}
