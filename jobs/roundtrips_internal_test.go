package jobs

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// tripTracer records each round trip a pool's connections make: a
// statement sent alone by its name (sqlc's, River's) or its first word, a
// batch as its statements joined by " + ".
type tripTracer struct {
	mu   sync.Mutex
	sent []string
}

func statementOf(sql string) string {
	if name := statementName(sql); name != "" {
		return name
	}
	return strings.Fields(sql)[0]
}

func statementName(sql string) string {
	_, rest, ok := strings.Cut(sql, "-- name: ")
	if !ok {
		return ""
	}
	return strings.Fields(rest)[0]
}

func (r *tripTracer) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, s)
}

func (r *tripTracer) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	sent := r.sent
	r.sent = nil
	return sent
}

func (r *tripTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.add(statementOf(d.SQL))
	return ctx
}

func (r *tripTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *tripTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var s []string
	for _, q := range d.Batch.QueuedQueries {
		s = append(s, statementOf(q.SQL))
	}
	r.add(strings.Join(s, " + "))
	return ctx
}

func (r *tripTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *tripTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// A batch of manual triggers of single-task jobs takes three round trips:
// BEGIN with the read of the jobs, the runs' insert with River's insert of
// their deliveries, River's NOTIFY with COMMIT.
func TestTriggerBatchRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dbtest.NewURL(t))
	require.NoError(t, err)
	trips := &tripTracer{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	client, err := NewClient(pool, Config{})
	require.NoError(t, err)

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
	trips.take()
	trigger()
	require.Equal(t, []string{
		"begin + GetJobs",
		"CreateTriggeredSoloRuns + JobInsertFastMany",
		"PGNotifyMany + commit",
	}, trips.take())
}
