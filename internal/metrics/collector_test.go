package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/metrics"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// scrape collects the database collector on pool once and returns every
// sample as name{label="value",...} (labels in name order) to its value.
func scrape(t *testing.T, pool *pgxpool.Pool) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewDBCollector(pool, heraldtest.Logger()))
	families, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := f.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// only keeps the samples of the named metric.
func only(samples map[string]float64, name string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range samples {
		if k == name || strings.HasPrefix(k, name+"{") {
			out[k] = v
		}
	}
	return out
}

func TestDBCollectorCountsReplicasByStateAndRole(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	_, err := pool.Exec(context.Background(), `
		INSERT INTO replicas (id, role, host, pid, version, timeout_ms, state, heartbeat_at) VALUES
			('w1', 'worker', 'h', 1, 't', 10000, 'alive', now()),
			('w2', 'worker', 'h', 2, 't', 10000, 'alive', now()),
			('w3', 'worker', 'h', 3, 't', 1000, 'alive', now() - interval '5 seconds'),
			('a1', 'api', 'h', 4, 't', 10000, 'alive', now()),
			('x1', 'all', 'h', 5, 't', 10000, 'dead', now() - interval '1 minute'),
			('x2', 'all', 'h', 6, 't', 10000, 'stopped', now() - interval '1 minute')`)
	require.NoError(t, err)
	require.Equal(t, map[string]float64{
		`herald_replicas{role="all",state="alive"}`:      0,
		`herald_replicas{role="all",state="dead"}`:       1,
		`herald_replicas{role="all",state="silent"}`:     0,
		`herald_replicas{role="all",state="stopped"}`:    1,
		`herald_replicas{role="api",state="alive"}`:      1,
		`herald_replicas{role="api",state="dead"}`:       0,
		`herald_replicas{role="api",state="silent"}`:     0,
		`herald_replicas{role="api",state="stopped"}`:    0,
		`herald_replicas{role="worker",state="alive"}`:   2,
		`herald_replicas{role="worker",state="dead"}`:    0,
		`herald_replicas{role="worker",state="silent"}`:  1,
		`herald_replicas{role="worker",state="stopped"}`: 0,
	}, only(scrape(t, pool), "herald_replicas"))
}

func TestDBCollectorCountsOpenCircuits(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	require.Equal(t, map[string]float64{"herald_endpoints_open": 0}, only(scrape(t, pool), "herald_endpoints_open"))
	_, err := pool.Exec(context.Background(), `
		INSERT INTO endpoints (host, state) VALUES ('a.example', 'open'), ('b.example', 'closed'), ('c.example', 'open')`)
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"herald_endpoints_open": 2}, only(scrape(t, pool), "herald_endpoints_open"))
}

func TestDBCollectorCountsWaitingTaskRunsOfActiveRuns(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	require.Equal(t, map[string]float64{"herald_tasks_waiting_upstream": 0}, only(scrape(t, pool), "herald_tasks_waiting_upstream"))
	// A running run with two waiting tasks and one pending, a queued run with
	// one waiting task, and an ended run: only active runs are counted (a run
	// that ends cancels its waiting tasks, so the last row cannot occur; it
	// is there to show what is read).
	_, err := pool.Exec(context.Background(), `
		INSERT INTO jobs (id, name, tasks, secret) VALUES ('00000000-0000-7000-8000-000000000001', 'j', '[]', 'whsec_x');
		INSERT INTO runs (id, job_id, trigger, state, scheduled_for) VALUES
			('00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-000000000001', 'manual', 'running', now()),
			('00000000-0000-7000-8000-0000000000a2', '00000000-0000-7000-8000-000000000001', 'manual', 'queued', now()),
			('00000000-0000-7000-8000-0000000000a3', '00000000-0000-7000-8000-000000000001', 'manual', 'succeeded', now());
		INSERT INTO task_runs (id, run_id, task_id, spec, state) VALUES
			(gen_random_uuid(), '00000000-0000-7000-8000-0000000000a1', 'a', '{}', 'waiting'),
			(gen_random_uuid(), '00000000-0000-7000-8000-0000000000a1', 'b', '{}', 'waiting'),
			(gen_random_uuid(), '00000000-0000-7000-8000-0000000000a1', 'c', '{}', 'pending'),
			(gen_random_uuid(), '00000000-0000-7000-8000-0000000000a2', 'a', '{}', 'waiting'),
			(gen_random_uuid(), '00000000-0000-7000-8000-0000000000a3', 'a', '{}', 'waiting')`)
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"herald_tasks_waiting_upstream": 3}, only(scrape(t, pool), "herald_tasks_waiting_upstream"))
}

func TestDBCollectorSendsEveryKnownQueue(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	_, err := pool.Exec(context.Background(), `
		INSERT INTO river_queue (name, updated_at) VALUES ('idle', now()), ('busy', now());
		INSERT INTO river_job (kind, args, queue, max_attempts, state, scheduled_at) VALUES
			('k', '{}', 'busy', 1, 'available', now() - interval '1 hour'),
			('k', '{}', 'busy', 1, 'available', now()),
			('k', '{}', 'busy', 1, 'available', now() + interval '1 hour')`)
	require.NoError(t, err)
	samples := scrape(t, pool)
	require.Equal(t, map[string]float64{
		`herald_queue_backlog{queue="busy"}`: 2,
		`herald_queue_backlog{queue="idle"}`: 0,
	}, only(samples, "herald_queue_backlog"))
	ages := only(samples, "herald_oldest_ready_age_seconds")
	require.Len(t, ages, 2)
	require.Zero(t, ages[`herald_oldest_ready_age_seconds{queue="idle"}`])
	require.InDelta(t, 3600, ages[`herald_oldest_ready_age_seconds{queue="busy"}`], 60)
}

func TestDBCollectorReportsTheDatabaseUpOrDown(t *testing.T) {
	t.Parallel()
	t.Run("reachable", func(t *testing.T) {
		t.Parallel()
		samples := scrape(t, dbtest.New(t))
		require.Equal(t, 1.0, samples["herald_database_up"])
		require.Contains(t, samples, "herald_overdue_ticks")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		// Port 1 on loopback: nothing listens, the connection is refused.
		pool, err := pgxpool.New(context.Background(), "postgres://herald@127.0.0.1:1/herald?connect_timeout=1")
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		require.Equal(t, map[string]float64{"herald_database_up": 0}, scrape(t, pool),
			"only herald_database_up while the database is away")
	})
}

// Queues named with WithQueues are reported before River knows them (a
// database no worker has used yet), at zero.
func TestDBCollectorReportsNamedQueuesBeforeRiverKnowsThem(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewDBCollector(dbtest.New(t), heraldtest.Logger()).WithQueues("herald_deliver"))
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() == "herald_queue_backlog" || f.GetName() == "herald_oldest_ready_age_seconds" {
				got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	require.Equal(t, map[string]float64{
		"herald_queue_backlog/herald_deliver":            0,
		"herald_oldest_ready_age_seconds/herald_deliver": 0,
	}, got)
}
