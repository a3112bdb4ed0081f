package jobs

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/metrics"
)

type riverDriver = riverpgxv5.Driver

// recordMargin is the time a delivery job has, beyond its request's
// timeout, to record the attempt.
const recordMargin = 15 * time.Second

// Queues.
const (
	// QueueFire holds schedule ticks: short transactions that start runs.
	QueueFire = "herald_fire"
	// QueueDeliver holds task attempts: one HTTP request each.
	QueueDeliver = "herald_deliver"
)

// Config configures herald's River client.
type Config struct {
	// Work makes the client work jobs. False gives an insert-only client
	// (the API role).
	Work bool
	// DeliveryWorkers is how many deliveries run at once in this process.
	// Default 100.
	DeliveryWorkers int
	// FireWorkers is how many ticks start at once in this process. Default 10.
	FireWorkers int
	// FirePollInterval is how often this process looks for due ticks; it
	// bounds how late a tick can start. Default 10ms.
	FirePollInterval time.Duration
	// DeliverPollInterval is how often this process looks for due delivery
	// attempts (retries; new deliveries arrive by NOTIFY). Default 50ms.
	DeliverPollInterval time.Duration
	// FetchCooldown is the least time between two fetches of a queue after
	// NOTIFYs. Default 1ms.
	FetchCooldown time.Duration
	// RescueAfter is how long a job may stay running before River's rescuer
	// puts it back (a replica died mid-delivery). Must exceed the longest
	// request timeout plus the time to record its attempt. Default 15m.
	RescueAfter time.Duration
	// MaxRequestTimeout is the longest task request timeout accepted; a
	// delivery job times out recordMargin (15s) after it. Default 5m.
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
	// Dispatcher makes the HTTP requests. Required when Work is set.
	Dispatcher *dispatch.Client
	// Logger receives River's and herald's logs. Default discards.
	Logger *slog.Logger
	// Metrics receives delivery metrics. Default none.
	Metrics *metrics.Metrics
	// Hooks are extra River hooks (tests use them to observe jobs).
	Hooks []rivertype.Hook
}

// NewClient returns herald's River client: with Work, it works the fire and
// deliver queues; without, it only inserts.
func NewClient(pool *pgxpool.Pool, cfg Config) (*river.Client[pgx.Tx], error) {
	logger := cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	maxTimeout := cmp.Or(cfg.MaxRequestTimeout, 5*time.Minute)
	rc := &river.Config{
		Logger:               logger,
		Hooks:                append([]rivertype.Hook{dueTimeHook()}, cfg.Hooks...),
		FetchCooldown:        cmp.Or(cfg.FetchCooldown, time.Millisecond),
		FetchPollInterval:    cmp.Or(cfg.DeliverPollInterval, 50*time.Millisecond),
		RescueStuckJobsAfter: cmp.Or(cfg.RescueAfter, 15*time.Minute),
		JobTimeout:           maxTimeout + recordMargin,
	}
	if rc.RescueStuckJobsAfter < rc.JobTimeout {
		return nil, fmt.Errorf("rescue-after (%s) must be at least the longest request timeout plus %s (%s)", rc.RescueStuckJobsAfter, recordMargin, rc.JobTimeout)
	}
	firePoll := cmp.Or(cfg.FirePollInterval, 10*time.Millisecond)
	if cfg.Work {
		if cfg.Dispatcher == nil {
			return nil, fmt.Errorf("jobs: a working client needs a Dispatcher")
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, &FireWorker{pool: pool, logger: logger, grace: cmp.Or(cfg.MisfireGrace, DefaultMisfireGrace), metrics: cfg.Metrics})
		river.AddWorker(workers, &DeliverWorker{
			pool: pool, dispatcher: cfg.Dispatcher, logger: logger,
			hosts:    newHostLimiter(cmp.Or(cfg.MaxInFlightPerHost, DefaultMaxInFlightPerHost)),
			leaseFor: maxTimeout + recordMargin,
			metrics:  cfg.Metrics,
			circuits: &circuits{
				pool:          pool,
				threshold:     cmp.Or(cfg.CircuitThreshold, DefaultCircuitThreshold),
				probeInterval: cmp.Or(cfg.ProbeInterval, DefaultProbeInterval),
				parkDeadline:  cmp.Or(cfg.ParkDeadline, DefaultParkDeadline),
			},
		})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{
			QueueFire: {
				MaxWorkers:        cmp.Or(cfg.FireWorkers, 10),
				FetchPollInterval: firePoll,
				// Ticks are inserted ahead of time, and each insert NOTIFYs:
				// fetching on those would find nothing due. The poll finds
				// due ticks; NOTIFYs only trigger a fetch once per poll.
				FetchCooldown: firePoll,
			},
			QueueDeliver: {
				MaxWorkers: cmp.Or(cfg.DeliveryWorkers, 100),
				// Deliveries of ticks are enqueued ahead of their time
				// (FireLead) and start on the first poll after it.
				FetchPollInterval: firePoll,
			},
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}
