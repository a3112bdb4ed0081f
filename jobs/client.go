package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/batch"
	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/replica"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// recordMargin is the time a delivery job has, beyond its request's
// timeout, to record the attempt.
const recordMargin = 15 * time.Second

// QueueDeliver is the River queue of task attempts: one HTTP request each.
const QueueDeliver = "herald_deliver"

// DefaultDeliveryWorkers is how many deliveries a process makes at once by
// default. A delivery of a tick holds its worker from StageLead before the
// tick until its response: firing N schedules in the same instant on time
// takes N workers.
const DefaultDeliveryWorkers = 1000

// Config configures herald's River client.
type Config struct {
	// Work makes the client work jobs. False gives an insert-only client
	// (the API role).
	Work bool
	// DeliveryWorkers is how many deliveries run at once in this process.
	// Default DefaultDeliveryWorkers.
	DeliveryWorkers int
	// FireBatch is the most ticks this process claims in one transaction.
	// Default DefaultFireBatch.
	FireBatch int
	// FirePollInterval is how often this process looks for due ticks and
	// delivery attempts; it bounds how late a tick of a job with overlap
	// skip or queue can start. Default DefaultFirePollInterval.
	FirePollInterval time.Duration
	// DeliverPollInterval is how often this process looks for due delivery
	// attempts (retries; new deliveries arrive by NOTIFY). Default
	// DefaultDeliverPollInterval.
	DeliverPollInterval time.Duration
	// FetchCooldown is the least time between two fetches of a queue after
	// NOTIFYs. Default DefaultFetchCooldown.
	FetchCooldown time.Duration
	// RescueAfter is how long a job may stay running before River's rescuer
	// puts it back (a replica died mid-delivery). Must exceed the longest
	// request timeout plus the time to record its attempt. Default
	// DefaultRescueAfter.
	RescueAfter time.Duration
	// MaxRequestTimeout is the longest task request timeout accepted; a
	// delivery job times out recordMargin (15s) after it. Default
	// jobspec.DefaultMaxTimeout.
	MaxRequestTimeout time.Duration
	// MaxInFlightPerHost bounds the deliveries this process makes at once to
	// one target host; more wait (snoozed, no attempt used). Default
	// DefaultMaxInFlightPerHost.
	MaxInFlightPerHost int
	// CircuitThreshold is how many consecutive failed deliveries to a host
	// open its circuit; negative disables circuits. Default
	// DefaultCircuitThreshold.
	CircuitThreshold int
	// ProbeInterval is how often an open circuit lets a probe through.
	// Default DefaultProbeInterval.
	ProbeInterval time.Duration
	// ParkDeadline is how long a delivery may wait behind an open circuit
	// before it is attempted as usual. Default DefaultParkDeadline.
	ParkDeadline time.Duration
	// MisfireGrace is how late a tick may start and still count as on time;
	// older ticks were missed. Default DefaultMisfireGrace.
	MisfireGrace time.Duration
	// TimeoutPollInterval is how often this process looks for runs past
	// their deadline (run_timeout). Default DefaultTimeoutPollInterval.
	TimeoutPollInterval time.Duration
	// Dispatcher makes the HTTP requests. Required when Work is set.
	Dispatcher *dispatch.Client
	// Logger receives River's and herald's logs. Default discards.
	Logger *slog.Logger
	// Metrics receives delivery metrics. Default none.
	Metrics *metrics.Metrics
	// Hooks are extra River hooks (tests use them to observe jobs).
	Hooks []rivertype.Hook
	// TracerProvider traces runs, River jobs (otelriver) and, through the
	// Dispatcher's own, requests. Default none.
	TracerProvider trace.TracerProvider
	// DeviceTimeout is how long a device stays online after a heartbeat.
	// Default device.DefaultTimeout.
	DeviceTimeout time.Duration
	// Hub wakes workers waiting for the results of pull-mode devices; the
	// caller runs it. Default none: tasks are not placed on pull-mode
	// devices.
	Hub *notify.Hub
	// Replica is this process's registration: its id is the River client's
	// id, its clock (the database's) times ticks and staged deliveries, and
	// its fence holds requests while the process cannot show it is alive.
	// Start it with the Client as its Work. Default none: River's default
	// client id, the process's clock, no fence.
	Replica *replica.Replica
}

// Client is herald's River client, and, when it works, the ticker that
// claims due ticks and the batchers that write deliveries' records.
// Start and Stop run them together.
type Client struct {
	*river.Client[pgx.Tx]

	ticker  *ticker
	timeout *timeoutSweeper
	worker  *DeliverWorker
	live    *replica.Replica
	tracer  trace.TracerProvider
	begins  *batch.Batcher[beginItem, *store.BeginAttemptsRow]
	records *batch.Batcher[*finishItem, struct{}]
	// rechecks reads staged deliveries' task runs before their time.
	rechecks *batch.Batcher[uuid.UUID, state.Task]
	// solos keeps the jobs' task lists decoded for starting their runs.
	solos *specCache[soloTask]
	// kept keeps the single-task jobs manual triggers read (keptJobs).
	kept *keptJobs

	mu          sync.Mutex
	stopTicker  context.CancelFunc
	tickerDone  chan struct{}
	stopBatches context.CancelFunc
}

// Start starts River and, for a working client, the ticker and batchers.
func (c *Client) Start(ctx context.Context) error {
	if err := c.Client.Start(ctx); err != nil {
		return err
	}
	if c.ticker == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stopBatches = cancel
	c.begins.Start(bctx)
	c.records.Start(bctx)
	c.rechecks.Start(bctx)
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stopTicker, c.tickerDone = cancel, make(chan struct{})
	go func() {
		defer close(c.tickerDone)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.timeout.run(tctx)
		}()
		c.ticker.run(tctx)
		<-done
	}()
	return nil
}

// Stop stops claiming ticks and sweeping timed-out runs, lets River take
// the deliveries of the ticks it claimed ahead of their time (up to
// FireLead) so that they are sent on time, then stops River as River's Stop
// does (deliveries in flight finish), then the batchers.
func (c *Client) Stop(ctx context.Context) error {
	return c.stop(ctx, c.Client.Stop)
}

// StopAndCancel is Stop with River's StopAndCancel: deliveries in flight are
// cancelled.
func (c *Client) StopAndCancel(ctx context.Context) error {
	return c.stop(ctx, c.Client.StopAndCancel)
}

func (c *Client) stop(ctx context.Context, stopRiver func(context.Context) error) error {
	c.mu.Lock()
	stopTicker, tickerDone := c.stopTicker, c.tickerDone
	c.mu.Unlock()
	if stopTicker != nil {
		stopTicker()
		select {
		case <-tickerDone:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := c.ticker.awaitStaged(ctx); err != nil {
			return err
		}
	}
	if err := stopRiver(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopBatches != nil {
		c.stopBatches()
		c.begins.Wait()
		c.records.Wait()
		c.rechecks.Wait()
		c.stopBatches = nil
	}
	return nil
}

// Defaults of Config.
const (
	// DefaultFirePollInterval is how often a process looks for due ticks.
	DefaultFirePollInterval = 10 * time.Millisecond
	// DefaultDeliverPollInterval is how often a process looks for due
	// retries (new deliveries arrive by NOTIFY).
	DefaultDeliverPollInterval = 50 * time.Millisecond
	// DefaultFetchCooldown is the least time between two fetches of the
	// deliver queue after NOTIFYs.
	DefaultFetchCooldown = time.Millisecond
	// DefaultRescueAfter is River's stuck-job rescue horizon: the last
	// resort for a replica that heartbeats but is stuck.
	DefaultRescueAfter = 15 * time.Minute
	// DefaultFireBatch is the most ticks claimed in one transaction.
	DefaultFireBatch = 1000
)

// withDefaults fills in the zero fields.
func (c Config) withDefaults() Config {
	c.DeliveryWorkers = cmp.Or(c.DeliveryWorkers, DefaultDeliveryWorkers)
	c.FireBatch = cmp.Or(c.FireBatch, DefaultFireBatch)
	c.FirePollInterval = cmp.Or(c.FirePollInterval, DefaultFirePollInterval)
	c.DeliverPollInterval = cmp.Or(c.DeliverPollInterval, DefaultDeliverPollInterval)
	c.FetchCooldown = cmp.Or(c.FetchCooldown, DefaultFetchCooldown)
	c.RescueAfter = cmp.Or(c.RescueAfter, DefaultRescueAfter)
	c.MaxRequestTimeout = cmp.Or(c.MaxRequestTimeout, jobspec.DefaultMaxTimeout)
	c.MaxInFlightPerHost = cmp.Or(c.MaxInFlightPerHost, DefaultMaxInFlightPerHost)
	c.CircuitThreshold = cmp.Or(c.CircuitThreshold, DefaultCircuitThreshold)
	c.ProbeInterval = cmp.Or(c.ProbeInterval, DefaultProbeInterval)
	c.ParkDeadline = cmp.Or(c.ParkDeadline, DefaultParkDeadline)
	c.MisfireGrace = cmp.Or(c.MisfireGrace, DefaultMisfireGrace)
	c.TimeoutPollInterval = cmp.Or(c.TimeoutPollInterval, DefaultTimeoutPollInterval)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	return c
}

// validate refuses a configuration that cannot work, naming the setting.
func (c Config) validate() error {
	if c.RescueAfter < c.MaxRequestTimeout+recordMargin {
		return fmt.Errorf("rescue-after (%s) must be at least the longest request timeout plus %s (%s)", c.RescueAfter, recordMargin, c.MaxRequestTimeout+recordMargin)
	}
	if c.Work && c.Dispatcher == nil {
		return errors.New("jobs: a working client needs a Dispatcher")
	}
	if c.DeliveryWorkers < 1 {
		return fmt.Errorf("delivery-workers (%d): at least 1", c.DeliveryWorkers)
	}
	return nil
}

// NewClient returns herald's client: with Work, it claims ticks and works
// the deliver queue; without, it only inserts.
func NewClient(pool *pgxpool.Pool, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	rc := &river.Config{
		Logger:               logger,
		Hooks:                append([]rivertype.Hook{dueTimeHook()}, cfg.Hooks...),
		FetchCooldown:        cfg.FetchCooldown,
		FetchPollInterval:    cfg.DeliverPollInterval,
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           cfg.MaxRequestTimeout + recordMargin,
		ReindexerIndexNames:  reindexedIndexes(),
	}
	c := &Client{tracer: cfg.TracerProvider, live: cfg.Replica, solos: newSpecCache(decodeSolo), kept: &keptJobs{}}
	if cfg.Replica != nil {
		rc.ID = cfg.Replica.ID()
	}
	if c.tracer != nil {
		// Insert and work spans, the work span a child of the run's span
		// (runTraceMiddleware, outermost). herald puts the trace context of
		// a run into its deliveries' metadata itself (see trace.go).
		rc.Middleware = []rivertype.Middleware{&runTraceMiddleware{}, otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			TracerProvider:              c.tracer,
			EnableWorkSpanJobKindSuffix: true,
		})}
	}
	if cfg.Work {
		rec := &recorder{pool: pool, client: c, metrics: cfg.Metrics}
		c.begins = batch.New(batchMax, batchFlushers, func(ctx context.Context, items []beginItem) ([]*store.BeginAttemptsRow, error) {
			return beginAttempts(ctx, pool, items)
		}).SpillAfter(batch.DefaultSpill)
		c.records = batch.New(batchMax, batchFlushers, rec.record).SpillAfter(batch.DefaultSpill)
		c.rechecks = newRechecks(pool)
		cache := &schedule.Cache{}
		c.ticker = &ticker{
			pool: pool, ins: c, tracer: c.tracer, logger: logger, metrics: cfg.Metrics, cache: cache, now: clockOf(c),
			grace: cfg.MisfireGrace,
			poll:  cfg.FirePollInterval,
			batch: cfg.FireBatch,
		}
		c.timeout = &timeoutSweeper{pool: pool, ins: c, logger: logger, metrics: cfg.Metrics, poll: cfg.TimeoutPollInterval}
		workers := river.NewWorkers()
		river.AddWorker(workers, &CallbackWorker{pool: pool, dispatcher: cfg.Dispatcher, logger: logger})
		c.worker = &DeliverWorker{
			pool: pool, dispatcher: cfg.Dispatcher, logger: logger, live: cfg.Replica, holder: rc.ID,
			fleet:    device.NewFleet(pool, cfg.DeviceTimeout, 0),
			hub:      cfg.Hub,
			hosts:    newHostLimiter(cfg.MaxInFlightPerHost),
			instants: instants{quiet: processGCQuiet},
			leaseFor: cfg.MaxRequestTimeout + recordMargin,
			metrics:  cfg.Metrics,
			begins:   c.begins,
			rechecks: c.rechecks,
			records:  c.records,
			tasks:    newSpecCache(decodeTask),
			circuits: &circuits{
				pool:          pool,
				threshold:     cfg.CircuitThreshold,
				probeInterval: cfg.ProbeInterval,
				parkDeadline:  cfg.ParkDeadline,
			},
		}
		river.AddWorker(workers, c.worker)
		river.AddWorker(workers, &RolloutWorker{pool: pool, client: c, recorder: rec, now: clockOf(c), logger: logger})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{
			QueueDeliver: {
				MaxWorkers: cfg.DeliveryWorkers,
				// Deliveries of ticks are enqueued ahead of their time and
				// start on the first poll after StageLead before it.
				FetchPollInterval: cfg.FirePollInterval,
			},
			QueueCallback: {MaxWorkers: callbackWorkers},
			QueueRollout:  {MaxWorkers: rolloutWorkers},
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	c.Client = client
	if c.worker != nil && c.worker.holder == "" {
		c.worker.holder = client.ID()
	}
	return c, nil
}

// Load is the number of deliveries this process is working and, of them,
// those with a request on the wire (replica.Work).
func (c *Client) Load() (working, inFlight int) {
	if c.worker == nil {
		return 0, 0
	}
	return c.worker.working.load()
}

// abandonWait bounds how long Abandon waits for the deliveries it ended.
const abandonWait = 5 * time.Second

// Abandon ends every delivery this process is working (replica.Work): the
// process was declared dead and its deliveries reclaimed by another. A
// delivery waiting at the fence returns at once; one on the wire is cut
// off. It returns when they have all returned, or after abandonWait.
func (c *Client) Abandon(ctx context.Context) {
	if c.worker == nil {
		return
	}
	ids := c.worker.working.abandon()
	deadline := time.Now().Add(abandonWait)
	for c.worker.working.holds(ids) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// clockOf is the clock of ticks and staged deliveries: the database's as
// this process reckons it when ins is a Client with a registration, else
// the process's own.
// solosOf returns ins's cache of decoded task lists; when ins is not
// herald's client, a cache of the caller's own.
func solosOf(ins Inserter) *specCache[soloTask] {
	if c, ok := ins.(*Client); ok {
		return c.solos
	}
	return newSpecCache(decodeSolo)
}

func clockOf(ins Inserter) func() time.Time {
	if c, ok := ins.(*Client); ok && c.live != nil {
		return c.live.Now
	}
	return time.Now
}

// Batching of deliveries' database work: at most batchMax items per
// statement, batchFlushers transactions at once per process, the second
// only once the first has taken batch.DefaultSpill.
const (
	batchMax      = 500
	batchFlushers = 2
)

// reindexedIndexes are the indexes River's reindexer rebuilds: its default
// set less the two GIN indexes migration 0025 dropped, which it would
// otherwise look for and warn of every day.
func reindexedIndexes() []string {
	return slices.DeleteFunc(river.ReindexerIndexNamesDefault(), func(name string) bool {
		return name == "river_job_args_index" || name == "river_job_metadata_index"
	})
}
