package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// oneOffLead is how far ahead an `at` one-off is scheduled, oneOffDelay
	// a `delay` one-off's delay.
	oneOffLead  = 3 * time.Second
	oneOffDelay = 2 * time.Second
	// dueSlack is added to a one-off's Due: the audit waits until then
	// before it looks for the one-off's run.
	dueSlack = time.Second
)

// loadConfig is the load the suite drives through nginx.
type loadConfig struct {
	// CronJobs per-second cron jobs are registered when the load starts;
	// one more every CronEvery while it runs.
	CronJobs  int
	CronEvery time.Duration
	// DAGJobs DAG jobs (a diamond of four tasks) and ManualJobs single-task
	// jobs without schedule are registered when the load starts, for the
	// triggers; one more DAG job every DAGEvery while it runs.
	DAGJobs    int
	ManualJobs int
	DAGEvery   time.Duration
	// OneOffEvery paces one-off registrations (`at` and `delay`, single-task
	// or DAG), TriggerEvery manual triggers of the DAG and manual jobs.
	OneOffEvery  time.Duration
	TriggerEvery time.Duration
	// MaxInFlight bounds the operations in flight at once (a database
	// outage holds them in their retries).
	MaxInFlight int
}

// defaultLoad is the load of `make chaos`.
func defaultLoad() loadConfig {
	return loadConfig{
		CronJobs:     6,
		CronEvery:    15 * time.Second,
		DAGJobs:      3,
		ManualJobs:   2,
		DAGEvery:     10 * time.Second,
		OneOffEvery:  400 * time.Millisecond,
		TriggerEvery: 400 * time.Millisecond,
		MaxInFlight:  64,
	}
}

// loadDriver registers and triggers jobs through nginx and writes every
// operation in the ledger.
type loadDriver struct {
	cfg    loadConfig
	api    *apiClient
	ledger *ledger
	// fast and slow are the receiver's endpoints.
	fast, slow string
	logger     *slog.Logger

	slots chan struct{}
	ops   sync.WaitGroup
	// stop ends the pacers; pacers waits for them.
	stop    context.CancelFunc
	pacers  sync.WaitGroup
	counter atomic.Int64

	mu          sync.Mutex
	triggerable []string
	cron        []string
}

func newLoadDriver(cfg loadConfig, api *apiClient, l *ledger, rc *receiver, logger *slog.Logger) *loadDriver {
	return &loadDriver{
		cfg: cfg, api: api, ledger: l, fast: rc.URL(fastPath), slow: rc.URL(slowPath), logger: logger,
		slots: make(chan struct{}, cfg.MaxInFlight),
	}
}

// Start registers the first jobs, then paces the load until Stop. It fails
// when none of the first registrations is acknowledged: the suite would
// test nothing.
func (d *loadDriver) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range d.cfg.CronJobs {
		wg.Go(func() { d.registerCron(ctx, i) })
	}
	for range d.cfg.DAGJobs {
		wg.Go(func() { d.registerDAG(ctx) })
	}
	for i := range d.cfg.ManualJobs {
		wg.Go(func() { d.registerManual(ctx, i) })
	}
	wg.Wait()
	for _, r := range d.ledger.Registrations() {
		if !r.Acked {
			return fmt.Errorf("a %s registration was refused (status %d): %s", r.Kind, r.Status, r.Err)
		}
	}
	pacing, stop := context.WithCancel(ctx)
	d.stop = stop
	d.pace(pacing, d.cfg.OneOffEvery, d.registerOneOff)
	d.pace(pacing, d.cfg.TriggerEvery, d.trigger)
	d.pace(pacing, d.cfg.CronEvery, func(ctx context.Context) { d.registerCron(ctx, int(d.counter.Add(1))) })
	d.pace(pacing, d.cfg.DAGEvery, d.registerDAG)
	return nil
}

// pace calls op every interval in its own goroutine, skipping a beat when
// MaxInFlight operations are in flight already. Operations run on ctx's
// values but are not cancelled with it: Stop lets them finish.
func (d *loadDriver) pace(ctx context.Context, every time.Duration, op func(context.Context)) {
	d.pacers.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case d.slots <- struct{}{}:
			default:
				continue
			}
			d.ops.Go(func() {
				defer func() { <-d.slots }()
				op(context.WithoutCancel(ctx))
			})
		}
	})
}

// Stop ends the pacing and waits for the operations in flight.
func (d *loadDriver) Stop() {
	if d.stop != nil {
		d.stop()
	}
	d.pacers.Wait()
	d.ops.Wait()
}

// register posts a job of kind and writes it in the ledger; due, if set,
// says when an acknowledged one-off should fire.
func (d *loadDriver) register(ctx context.Context, kind string, schedule map[string]string, due func(outcome) time.Time, tasks ...task) outcome {
	key := newKey()
	o := d.api.Post(ctx, "/v1/jobs", newJob(kind, key, schedule, tasks...), key, http.StatusCreated)
	r := registration{outcome: o, Kind: kind}
	if o.Acked && due != nil {
		r.Due = due(o)
	}
	if !o.Acked {
		d.logger.DebugContext(ctx, "registration failed", slog.String("kind", kind), slog.Int("status", o.Status), slog.String("error", o.Err))
	}
	d.ledger.AddRegistration(r)
	return o
}

// registerOneOff registers a job that fires once: at a time, or after a
// delay; every fourth a DAG. Half the single-task ones call the slow endpoint.
func (d *loadDriver) registerOneOff(ctx context.Context) {
	n := d.counter.Add(1)
	schedule := delaySchedule(oneOffDelay)
	due := func(o outcome) time.Time { return o.AckedAt.Add(oneOffDelay + dueSlack) }
	if n%2 == 0 {
		at := time.Now().Add(oneOffLead)
		schedule = atSchedule(at)
		due = func(outcome) time.Time { return at.Add(dueSlack) }
	}
	tasks := []task{newTask("call", d.endpoint(n))}
	if n%4 == 1 {
		tasks = dagTasks(d.fast, d.slow)
	}
	d.register(ctx, kindOneOff, schedule, due, tasks...)
}

// registerCron registers a per-second cron job with one task, calling the
// slow endpoint for every other job.
func (d *loadDriver) registerCron(ctx context.Context, n int) {
	if r := d.register(ctx, kindCron, cronSchedule(), nil, newTask("tick", d.endpoint(int64(n)))); r.Acked {
		d.mu.Lock()
		d.cron = append(d.cron, r.ID)
		d.mu.Unlock()
	}
}

// registerDAG registers a DAG job without schedule, for the triggers.
func (d *loadDriver) registerDAG(ctx context.Context) {
	if r := d.register(ctx, kindDAG, nil, nil, dagTasks(d.fast, d.slow)...); r.Acked {
		d.addTriggerable(r.ID)
	}
}

// registerManual registers a single-task job without schedule, for the triggers.
func (d *loadDriver) registerManual(ctx context.Context, n int) {
	if r := d.register(ctx, kindManual, nil, nil, newTask("call", d.endpoint(int64(n)))); r.Acked {
		d.addTriggerable(r.ID)
	}
}

func (d *loadDriver) addTriggerable(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.triggerable = append(d.triggerable, id)
}

// trigger runs one of the DAG and manual jobs now.
func (d *loadDriver) trigger(ctx context.Context) {
	d.mu.Lock()
	if len(d.triggerable) == 0 {
		d.mu.Unlock()
		return
	}
	id := d.triggerable[rand.IntN(len(d.triggerable))]
	d.mu.Unlock()
	o := d.api.Post(ctx, "/v1/jobs/"+id+"/runs", nil, newKey(), http.StatusAccepted)
	d.ledger.AddTrigger(trigger{outcome: o, JobID: id})
}

// PauseCron pauses every cron job, so that ticks end and the history can
// settle; the audit counts each job's ticks up to its pause.
func (d *loadDriver) PauseCron(ctx context.Context) {
	d.mu.Lock()
	ids := append([]string(nil), d.cron...)
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			d.ledger.AddPause(id, d.api.Post(ctx, "/v1/jobs/"+id+"/pause", nil, newKey(), http.StatusOK))
		})
	}
	wg.Wait()
}

// endpoint alternates between the fast and the slow endpoint.
func (d *loadDriver) endpoint(n int64) string {
	if n%2 == 0 {
		return d.slow
	}
	return d.fast
}
