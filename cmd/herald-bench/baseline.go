package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/herald-sched/herald/migrations"
)

// River's settings for the baseline, in the style of `river bench`: many
// workers, a short fetch cooldown and poll interval.
const (
	baselineWorkers      = 200
	baselineCooldown     = time.Millisecond
	baselinePollInterval = 50 * time.Millisecond
	baselineDBConns      = 20
	// baselineInserters insert batches of baselineBatch jobs while fewer
	// than baselineBacklog inserted jobs wait to be worked: the queue never
	// runs dry and never grows without bound.
	baselineInserters = 4
	baselineBatch     = 1_000
	baselineBacklog   = 20_000
	// backlogPause is how long a load goroutine waits when the backlog is full.
	backlogPause = time.Millisecond
	// riverStopTimeout bounds stopping the baseline's River client.
	riverStopTimeout = 10 * time.Second
)

// noopArgs is the baseline's job: nothing to do.
type noopArgs struct{}

// Kind is the River job kind of the baseline's jobs.
func (noopArgs) Kind() string { return "herald_bench_noop" }

// noopWorker works noopArgs by counting them.
type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	worked *atomic.Int64
}

// Work counts the job.
func (w *noopWorker) Work(context.Context, *river.Job[noopArgs]) error {
	w.worked.Add(1)
	return nil
}

// runBaseline measures River working no-op jobs in this process, inserted
// continuously, on a fresh database with herald's schema (River's tables
// and herald's index on them): the most herald could do on this machine.
func runBaseline(ctx context.Context, e *env) (_ []metric, err error) {
	url, drop, err := e.freshDatabase(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, drop()) }()
	pool, err := openPool(ctx, url, baselineDBConns)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if _, err := migrations.Migrate(ctx, pool, e.libLogger); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}

	var worked atomic.Int64
	client, err := newBaselineClient(pool, &worked, e.libLogger)
	if err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("start River: %w", err)
	}
	defer func() { err = errors.Join(err, stopRiver(client)) }()

	probe, err := e.newCostProbe(ctx, url)
	if err != nil {
		return nil, err
	}
	defer probe.Close()
	mark, err := probe.Mark(ctx)
	if err != nil {
		return nil, err
	}
	var inserted atomic.Int64
	readCPU := func() (cpuUse, error) { return readCPU(ctx, e.db, url, os.Getpid()) }
	jobsPerSecond, steady, cpu, err := measureBaseline(ctx, e.size, client, &inserted, &worked, probe, readCPU)
	if err != nil {
		return nil, err
	}
	// What PostgreSQL did per job is measured from the quiet point before
	// the first insert to the one after the last job is worked.
	if err := waitFor(ctx, drainTimeout, func() bool { return worked.Load() >= inserted.Load() }); err != nil {
		return nil, fmt.Errorf("work the jobs inserted: %w", err)
	}
	perJob, _, err := probe.Cost(ctx, mark, worked.Load(), steady)
	if err != nil {
		return nil, err
	}
	e.baselineRate, e.baselineCost = jobsPerSecond, perJob
	metrics := []metric{newMetric("River no-op jobs", jobsPerSecond, unitPerSecond)}
	// River runs in the bench's process, with its inserters.
	metrics = append(metrics, cpuMetrics("", "job", "River and its inserters (this process)", false,
		deliveryWindow{deliveries: jobsPerSecond, cpuFrom: cpu[0], cpuTo: cpu[1]})...)
	return append(metrics, costMetrics("", "job", "jobs", perJob, nil)...), nil
}

// newBaselineClient returns a River client working noopArgs on the default
// queue, counting them in worked.
func newBaselineClient(pool *pgxpool.Pool, worked *atomic.Int64, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &noopWorker{worked: worked})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:            logger,
		FetchCooldown:     baselineCooldown,
		FetchPollInterval: baselinePollInterval,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: baselineWorkers}},
		Workers:           workers,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// measureBaseline inserts continuously, counting in inserted, and returns
// the jobs worked per second in the measured window, after the warm-up, and
// the probe's published statistics over it.
func measureBaseline(ctx context.Context, sz size, client *river.Client[pgx.Tx], inserted, worked *atomic.Int64, probe *costProbe, readCPU func() (cpuUse, error)) (float64, *steadyWindow, [2]cpuUse, error) {
	var cpu [2]cpuUse
	// One batch per inserter: InsertMany may not expect to share one.
	batches := make([][]river.InsertManyParams, baselineInserters)
	for i := range batches {
		batches[i] = make([]river.InsertManyParams, baselineBatch)
		for j := range batches[i] {
			batches[i][j].Args = noopArgs{}
		}
	}
	l := startLoad(ctx, baselineInserters, func(ctx context.Context, worker int) error {
		if inserted.Load()-worked.Load() >= baselineBacklog {
			return sleep(ctx, backlogPause)
		}
		if _, err := client.InsertMany(ctx, batches[worker]); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		inserted.Add(baselineBatch)
		return nil
	})
	if err := l.Run(ctx, sz.Warmup); err != nil {
		return 0, nil, cpu, err
	}
	steady := &steadyWindow{}
	var err error
	if steady.from, err = probe.Published(ctx); err != nil {
		return 0, nil, cpu, errors.Join(err, l.Stop())
	}
	if cpu[0], err = readCPU(); err != nil {
		return 0, nil, cpu, errors.Join(err, l.Stop())
	}
	n0, t0 := worked.Load(), time.Now()
	if err := l.Run(ctx, sz.Baseline); err != nil {
		return 0, nil, cpu, err
	}
	n1, t1 := worked.Load(), time.Now()
	if cpu[1], err = readCPU(); err != nil {
		return 0, nil, cpu, errors.Join(err, l.Stop())
	}
	if steady.to, err = probe.Published(ctx); err != nil {
		return 0, nil, cpu, errors.Join(err, l.Stop())
	}
	steady.units = n1 - n0
	if err := l.Stop(); err != nil {
		return 0, nil, cpu, err
	}
	return rate(n1-n0, t1.Sub(t0)), steady, cpu, nil
}

// stopRiver stops the client, letting its jobs finish, then cancels them.
func stopRiver(client *river.Client[pgx.Tx]) error {
	ctx, cancel := context.WithTimeout(context.Background(), riverStopTimeout)
	defer cancel()
	if err := client.Stop(ctx); err == nil {
		return nil
	}
	ctx, cancel = context.WithTimeout(context.Background(), riverStopTimeout)
	defer cancel()
	return client.StopAndCancel(ctx)
}

// openPool connects to url with at most conns connections.
func openPool(ctx context.Context, url string, conns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return pool, nil
}
