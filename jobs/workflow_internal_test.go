package jobs

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// startJob registers j and starts a manual run of it.
func (b *testBundle) startJob(t *testing.T, j jobspec.Job) *store.Run {
	t.Helper()
	j.Name = t.Name()
	require.NoError(t, j.Validate(time.Now(), jobspec.Limits{}, func(string) error { return nil }))
	var run *store.Run
	b.tx(t, func(tx pgx.Tx) error {
		job, _, err := CreateJob(context.Background(), tx, &j, time.Now())
		if err != nil {
			return err
		}
		run, err = TriggerRun(context.Background(), tx, b.client, Trigger{JobID: job.ID, At: time.Now()})
		return err
	})
	return run
}

// finish begins and records one attempt of task id of run with the given
// outcome, as a delivery does.
func (b *testBundle) finish(t *testing.T, run *store.Run, id string, outcome state.Task) {
	t.Helper()
	tr := b.taskRuns(t, run.ID)[id]
	begun := b.begin(t, tr, int(tr.Attempts)+1)
	rec := attemptRecord{attempt: int(tr.Attempts) + 1, outcome: outcome, started: time.Now()}
	switch outcome {
	case state.TaskSucceeded:
		rec.res = answered(200, dispatch.Success)
	case state.TaskFailed:
		rec.res, rec.err = answered(400, dispatch.Permanent), "HTTP 400"
	}
	b.record(t, &finishItem{tr: begun, rec: rec})
}

// states are the run's task states by task id.
func (b *testBundle) states(t *testing.T, run *store.Run) map[string]state.Task {
	t.Helper()
	out := map[string]state.Task{}
	for id, tr := range b.taskRuns(t, run.ID) {
		out[id] = tr.State
	}
	return out
}

func withRunIf(tk jobspec.Task, runIf string) jobspec.Task {
	tk.RunIf = runIf
	return tk
}

func TestFailureBranches(t *testing.T) {
	t.Parallel()
	type step struct {
		task    string
		outcome state.Task
	}
	tests := []struct {
		name           string
		tasks          []jobspec.Task
		failureHandled bool
		steps          []step
		want           map[string]state.Task
		wantRun        state.Run
	}{
		{
			name:  "a failure runs its handler, not its all_succeeded sibling",
			tasks: []jobspec.Task{task("a"), task("ok", "a"), withRunIf(task("h", "a"), jobspec.RunIfAnyFailed)},
			steps: []step{{"a", state.TaskFailed}, {"h", state.TaskSucceeded}},
			want:  map[string]state.Task{"a": state.TaskFailed, "ok": state.TaskUpstreamFailed, "h": state.TaskSucceeded},
			// The handler succeeded, but the job does not say failure_handled.
			wantRun: state.RunFailed,
		},
		{
			name:           "failure_handled: a handled failure ends the run succeeded",
			tasks:          []jobspec.Task{task("a"), task("ok", "a"), withRunIf(task("h", "a"), jobspec.RunIfAnyFailed)},
			failureHandled: true,
			steps:          []step{{"a", state.TaskFailed}, {"h", state.TaskSucceeded}},
			want:           map[string]state.Task{"a": state.TaskFailed, "ok": state.TaskUpstreamFailed, "h": state.TaskSucceeded},
			wantRun:        state.RunSucceeded,
		},
		{
			name:           "failure_handled: a handler that fails fails the run",
			tasks:          []jobspec.Task{task("a"), withRunIf(task("h", "a"), jobspec.RunIfAnyFailed)},
			failureHandled: true,
			steps:          []step{{"a", state.TaskFailed}, {"h", state.TaskFailed}},
			want:           map[string]state.Task{"a": state.TaskFailed, "h": state.TaskFailed},
			wantRun:        state.RunFailed,
		},
		{
			name:    "no failure skips the handler, and its child runs",
			tasks:   []jobspec.Task{task("a"), withRunIf(task("h", "a"), jobspec.RunIfAnyFailed), task("after", "h")},
			steps:   []step{{"a", state.TaskSucceeded}, {"after", state.TaskSucceeded}},
			want:    map[string]state.Task{"a": state.TaskSucceeded, "h": state.TaskSkipped, "after": state.TaskSucceeded},
			wantRun: state.RunSucceeded,
		},
		{
			name:    "propagation stops at a handler further down",
			tasks:   []jobspec.Task{task("a"), task("b", "a"), withRunIf(task("h", "b"), jobspec.RunIfAnyFailed), task("c", "b")},
			steps:   []step{{"a", state.TaskFailed}, {"h", state.TaskSucceeded}},
			want:    map[string]state.Task{"a": state.TaskFailed, "b": state.TaskUpstreamFailed, "c": state.TaskUpstreamFailed, "h": state.TaskSucceeded},
			wantRun: state.RunFailed,
		},
		{
			name: "mixed parents: all_done waits for both and runs; all_succeeded fails at once",
			tasks: []jobspec.Task{task("a"), task("b"), withRunIf(task("done", "a", "b"), jobspec.RunIfAllDone),
				task("both", "a", "b"), withRunIf(task("h", "a", "b"), jobspec.RunIfAnyFailed)},
			steps: []step{{"a", state.TaskFailed}, {"b", state.TaskSucceeded}, {"done", state.TaskSucceeded}, {"h", state.TaskSucceeded}},
			want: map[string]state.Task{"a": state.TaskFailed, "b": state.TaskSucceeded, "done": state.TaskSucceeded,
				"both": state.TaskUpstreamFailed, "h": state.TaskSucceeded},
			wantRun: state.RunFailed,
		},
		{
			// The recorder settles no run that a child of the task it
			// finished keeps open; here the last task's only child ends
			// (skipped) in the same transaction, and the run with it.
			name:    "the last task's child is skipped: the run ends with it",
			tasks:   []jobspec.Task{task("a"), task("b"), withRunIf(task("h", "a"), jobspec.RunIfAnyFailed)},
			steps:   []step{{"b", state.TaskSucceeded}, {"a", state.TaskSucceeded}},
			want:    map[string]state.Task{"a": state.TaskSucceeded, "b": state.TaskSucceeded, "h": state.TaskSkipped},
			wantRun: state.RunSucceeded,
		},
		{
			name:    "a chain ends with its last task, not before",
			tasks:   []jobspec.Task{task("a"), task("b", "a"), task("c", "b")},
			steps:   []step{{"a", state.TaskSucceeded}, {"b", state.TaskSucceeded}, {"c", state.TaskSucceeded}},
			want:    map[string]state.Task{"a": state.TaskSucceeded, "b": state.TaskSucceeded, "c": state.TaskSucceeded},
			wantRun: state.RunSucceeded,
		},
		{
			name:    "a skipped parent counts as done for all_succeeded",
			tasks:   []jobspec.Task{task("a"), task("b", "a"), task("c", "b")},
			steps:   []step{{"a", state.TaskSucceeded}, {"b", state.TaskSkipped}, {"c", state.TaskSucceeded}},
			want:    map[string]state.Task{"a": state.TaskSucceeded, "b": state.TaskSkipped, "c": state.TaskSucceeded},
			wantRun: state.RunSucceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			run := b.startJob(t, jobspec.Job{Tasks: tt.tasks, FailureHandled: tt.failureHandled})
			for _, s := range tt.steps {
				require.Equal(t, state.RunRunning, b.runState(t, run.ID), "the run ended before %s", s.task)
				b.finish(t, run, s.task, s.outcome)
			}
			got := b.states(t, run)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
			require.Equal(t, tt.wantRun, b.runState(t, run.ID), "got %v, want %v", b.runState(t, run.ID), tt.wantRun)
		})
	}
}

// A handler that a failure releases is enqueued in the same transaction,
// while an independent parent is still running.
func TestFailureHandlerIsEnqueuedWithTheFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.startJob(t, jobspec.Job{Tasks: []jobspec.Task{task("a"), task("slow"), withRunIf(task("h", "a"), jobspec.RunIfAnyFailed)}})
	b.finish(t, run, "a", state.TaskFailed)
	trs := b.taskRuns(t, run.ID)
	require.Equal(t, state.TaskPending, trs["h"].State)
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE args->>'task_run_id' = $1`, trs["h"].ID.String()).Scan(&n))
	require.Equal(t, 1, n, "got %v deliveries of the handler, want 1", n)
}

// A run past its deadline is ended once, timed_out, with its unfinished
// tasks cancelled; an attempt recorded afterwards changes nothing.
func TestTimeoutSweepEndsARunOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.startJob(t, jobspec.Job{Tasks: []jobspec.Task{task("a"), task("b", "a")}, RunTimeout: new(jobspec.Duration(time.Second))})
	require.NotNil(t, run.Deadline)
	require.WithinDuration(t, run.ScheduledFor.Add(time.Second), *run.Deadline, time.Millisecond)
	a := b.begin(t, b.taskRuns(t, run.ID)["a"], 1) // in flight

	sweeper := &timeoutSweeper{pool: b.pool, ins: b.client, logger: slog.New(slog.DiscardHandler)}
	n, err := sweeper.sweep(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "a run not yet due was ended")
	_, err = b.pool.Exec(context.Background(), `UPDATE runs SET deadline = now() - interval '1 second' WHERE id = $1`, run.ID)
	require.NoError(t, err)
	n, err = sweeper.sweep(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = sweeper.sweep(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "a run was ended twice")
	require.Equal(t, state.RunTimedOut, b.runState(t, run.ID))
	got := b.states(t, run)
	want := map[string]state.Task{"a": state.TaskCancelled, "b": state.TaskCancelled}
	require.Equal(t, want, got, "got %v, want %v", got, want)

	b.record(t, &finishItem{tr: a, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	require.Equal(t, state.RunTimedOut, b.runState(t, run.ID))
	require.Equal(t, state.TaskCancelled, b.taskRuns(t, run.ID)["a"].State, "the late outcome changed the task")
	var outcome state.Outcome
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT outcome FROM attempts WHERE task_run_id = $1`, a.ID).Scan(&outcome))
	require.Equal(t, state.OutcomeSucceeded, outcome, "the late outcome is recorded")
}

// A run's end enqueues its run-end callback in the same transaction, for
// each way a run ends.
func TestRunEndEnqueuesTheCallback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cb := &jobspec.Callback{URL: "https://hooks.example/end"}
	callbacks := func(runID any) int {
		var n int
		require.NoError(t, b.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = 'herald.run_end' AND args->>'run_id' = $1::text`, runID).Scan(&n))
		return n
	}
	solo := b.startJob(t, jobspec.Job{Tasks: []jobspec.Task{task("a")}, OnRunEnd: cb})
	b.finish(t, solo, "a", state.TaskSucceeded)
	require.Equal(t, 1, callbacks(solo.ID.String()))

	dag := b.startJob(t, jobspec.Job{Tasks: []jobspec.Task{task("a"), task("b", "a")}, OnRunEnd: cb})
	b.finish(t, dag, "a", state.TaskFailed)
	require.Equal(t, state.RunFailed, b.runState(t, dag.ID))
	require.Equal(t, 1, callbacks(dag.ID.String()))

	cancelled := b.startJob(t, jobspec.Job{Tasks: []jobspec.Task{task("a")}, OnRunEnd: cb})
	b.tx(t, func(tx pgx.Tx) error {
		_, err := CancelRun(context.Background(), tx, b.client, cancelled.ID)
		return err
	})
	require.Equal(t, 1, callbacks(cancelled.ID.String()))
	var cbState string
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT callback_state FROM runs WHERE id = $1`, cancelled.ID).Scan(&cbState))
	require.Equal(t, "pending", cbState)

	none := b.startJob(t, jobspec.Job{Tasks: []jobspec.Task{task("a")}})
	b.finish(t, none, "a", state.TaskSucceeded)
	require.Zero(t, callbacks(none.ID.String()), "a job without on_run_end got a callback")
}
