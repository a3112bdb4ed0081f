package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

const (
	// feedDBConns is the database feed's pool size.
	feedDBConns = 8
	// feedBatch is how many runs the database feed starts per transaction.
	feedBatch = 10
)

// runFeed starts runs of the delivery scenario's jobs, taking the jobs in
// turn: one call of start starts some runs and returns how many.
type runFeed interface {
	start(ctx context.Context) (int64, error)
}

// roundRobin hands out indexes 0 to n-1 in turn, safely from any goroutine.
type roundRobin struct {
	n    int
	next atomic.Int64
}

// take returns the next index.
func (r *roundRobin) take() int { return int((r.next.Add(1) - 1) % int64(r.n)) }

// apiFeed triggers runs through the REST API, one request per run.
type apiFeed struct {
	api  *apiClient
	jobs []string
	turn roundRobin
}

// newAPIFeed returns a feed triggering runs of jobs.
func newAPIFeed(api *apiClient, jobs []string) *apiFeed {
	return &apiFeed{api: api, jobs: jobs, turn: roundRobin{n: len(jobs)}}
}

// start triggers one run of the next job.
func (f *apiFeed) start(ctx context.Context) (int64, error) {
	if _, err := f.api.TriggerRun(ctx, f.jobs[f.turn.take()]); err != nil {
		return 0, err
	}
	return 1, nil
}

// dbFeed starts runs the way the API's trigger does (jobs.StartRuns: the
// runs, their task runs and their delivery jobs of concurrent triggers in one
// transaction), feedBatch runs per transaction, without HTTP: it feeds
// herald's delivery workers as InsertMany feeds River's in the baseline.
type dbFeed struct {
	pool  *pgxpool.Pool
	river *jobs.Client
	jobs  []store.Job
	turn  roundRobin
}

// newDBFeed connects to herald's database and loads the jobs.
func newDBFeed(ctx context.Context, url string, jobIDs []string) (_ *dbFeed, err error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = feedDBConns
	store.ConfigureSession(cfg) // herald's code, on herald's settings
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		if err != nil {
			pool.Close()
		}
	}()
	client, err := jobs.NewClient(pool, jobs.Config{})
	if err != nil {
		return nil, err
	}
	f := &dbFeed{pool: pool, river: client, jobs: make([]store.Job, len(jobIDs)), turn: roundRobin{n: len(jobIDs)}}
	for i, id := range jobIDs {
		uid, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("job id %q: %w", id, err)
		}
		if f.jobs[i], err = store.New(pool).GetJob(ctx, uid); err != nil {
			return nil, fmt.Errorf("load job %s: %w", id, err)
		}
	}
	return f, nil
}

// start starts feedBatch runs, of the next jobs, in one transaction.
func (f *dbFeed) start(ctx context.Context) (int64, error) {
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		reqs := make([]jobs.RunRequest, feedBatch)
		for i := range reqs {
			reqs[i] = jobs.RunRequest{Job: &f.jobs[f.turn.take()], ScheduledFor: time.Now()}
		}
		if _, err := jobs.StartRuns(ctx, tx, f.river, reqs); err != nil {
			return fmt.Errorf("start runs: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return feedBatch, nil
}

// Close disconnects.
func (f *dbFeed) Close() { f.pool.Close() }
