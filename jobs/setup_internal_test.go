package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// testBundle is a database cloned from the migrated template and an
// insert-only client: enough to create jobs and runs and to call the
// domain's functions directly, without HTTP or workers.
type testBundle struct {
	pool   *pgxpool.Pool
	client *Client
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := dbtest.New(t)
	client, err := NewClient(pool, Config{})
	require.NoError(t, err)
	return &testBundle{pool: pool, client: client}
}

// tx runs fn in a committed transaction.
func (b *testBundle) tx(t *testing.T, fn func(tx pgx.Tx) error) {
	t.Helper()
	require.NoError(t, pgx.BeginFunc(context.Background(), b.pool, fn))
}

// startRun registers a job with tasks and starts a manual run of it.
func (b *testBundle) startRun(t *testing.T, tasks ...jobspec.Task) *store.Run {
	t.Helper()
	return b.startJob(t, jobspec.Job{Tasks: tasks})
}

// createJob registers a job of tasks named name, now.
func (b *testBundle) createJob(t *testing.T, name string, tasks ...jobspec.Task) *store.Job {
	t.Helper()
	j := jobspec.Job{Name: name, Tasks: tasks}
	require.NoError(t, j.Validate(time.Now(), jobspec.Limits{}, func(string) error { return nil }))
	var job *store.Job
	b.tx(t, func(tx pgx.Tx) (err error) {
		job, _, err = CreateJob(context.Background(), tx, &j, time.Now())
		return err
	})
	return job
}

// taskRuns returns a run's task runs by task id.
func (b *testBundle) taskRuns(t *testing.T, runID uuid.UUID) map[string]store.TaskRun {
	t.Helper()
	rows, err := store.New(b.pool).ListTaskRuns(context.Background(), runID)
	require.NoError(t, err)
	out := map[string]store.TaskRun{}
	for _, r := range rows {
		out[r.TaskID] = r
	}
	return out
}

func task(id string, deps ...string) jobspec.Task {
	return jobspec.Task{ID: id, DependsOn: deps, Request: jobspec.Request{URL: "https://device.example/" + id}}
}
