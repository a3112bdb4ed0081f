package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// setupTraced is setup with the round trips of the bundle's pool recorded.
func setupTraced(t *testing.T) (*testBundle, *dbtest.RoundTrips) {
	t.Helper()
	pool, trips := dbtest.NewTraced(t)
	client, err := NewClient(pool, Config{})
	require.NoError(t, err)
	return &testBundle{pool: pool, client: client}, trips
}

// A batch of manual triggers of single-task jobs takes three round trips:
// BEGIN with the read of the jobs, the runs' insert with River's insert of
// their deliveries, River's NOTIFY with COMMIT; two once the jobs are kept
// (keptJobs): BEGIN goes with the insert. A trigger alone takes four.
func TestTriggerBatchRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, trips := setupTraced(t)
	pool, client := b.pool, b.client

	j := jobspec.Job{Name: "one-task", Tasks: []jobspec.Task{task("call")}}
	require.NoError(t, j.Validate(time.Now(), jobspec.Limits{}, func(string) error { return nil }))
	var job *store.Job
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		job, _, err = CreateJob(ctx, tx, &j, time.Now())
		return err
	}))
	trigger := func() {
		require.NoError(t, store.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, errs, err := TriggerRuns(ctx, tx, client, []Trigger{{JobID: job.ID, At: time.Now()}, {JobID: job.ID, At: time.Now()}})
			require.Equal(t, []error{nil, nil}, errs)
			return err
		}))
	}
	trigger() // River reads the server's version once per driver
	require.Contains(t, trips.TakeNames(), "begin + GetJobsVersioned")
	trigger()
	require.Equal(t, []string{
		"begin + CreateTriggeredSoloRuns + JobInsertFastMany",
		"PGNotifyMany + commit",
	}, trips.TakeNames())
	// A job not kept yet (new, or triggered on another replica) is read
	// first.
	var other *store.Job
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		other, _, err = CreateJob(ctx, tx, &j, time.Now())
		return err
	}))
	trips.TakeNames()
	require.NoError(t, store.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, _, err := TriggerRuns(ctx, tx, client, []Trigger{{JobID: job.ID, At: time.Now()}, {JobID: other.ID, At: time.Now()}})
		return err
	}))
	require.Equal(t, []string{
		"begin + GetJobsVersioned",
		"CreateTriggeredSoloRuns + JobInsertFastMany",
		"PGNotifyMany + commit",
	}, trips.TakeNames())

	// One trigger on its own (an inbound call, a trigger with an
	// Idempotency-Key): the run's insert returns it, its task run's goes
	// out with River's insert.
	require.NoError(t, store.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := TriggerRun(ctx, tx, client, Trigger{JobID: job.ID, At: time.Now()})
		return err
	}))
	require.Equal(t, []string{
		"begin + GetJob",
		"CreateRun",
		"CreateTaskRunsFew + JobInsertFastMany",
		"PGNotifyMany + commit",
	}, trips.TakeNames())
}

// Recording a DAG task that releases its child: the run's lock goes with
// the record (BEGIN, LockRuns, RecordAndSettle in one round trip), then the
// child's release and its River job; River's NOTIFY goes with the next
// read. Recording a single-task run takes two.
func TestRecordRoundTrips(t *testing.T) {
	t.Parallel()
	b, trips := setupTraced(t)

	run := b.startRun(t, task("a"), task("b", "a"))
	a := b.begin(t, b.taskRuns(t, run.ID)["a"], 1)
	trips.TakeNames()
	b.record(t, &finishItem{tr: a, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	require.Equal(t, []string{
		"begin + LockRuns + RecordAndSettle",
		"ReleaseChildrenMany",
		"JobInsertFastMany",
		"PGNotifyMany + RunsWithUnsettledTasks", // b waits: a's run does not end
		"commit",
	}, trips.TakeNames())

	// A single-task run: its record and its end in one round trip.
	solo := b.startRun(t, task("only"))
	only := b.begin(t, b.taskRuns(t, solo.ID)["only"], 1)
	trips.TakeNames()
	b.record(t, &finishItem{tr: only, solo: true, rec: attemptRecord{attempt: 1, outcome: state.TaskSucceeded, started: time.Now(), res: answered(200, dispatch.Success)}})
	require.Equal(t, []string{"begin + RecordAndSettle + EndCheckedSoloRuns", "commit"}, trips.TakeNames())
	require.Equal(t, state.RunSucceeded, b.runState(t, solo.ID))
}
