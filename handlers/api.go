package handlers

import (
	"cmp"
	"context"
	"github.com/herald-sched/herald/internal/store"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/batch"
	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/jobs"
)

// APIConfig is what the REST API needs.
type APIConfig struct {
	// Pool is the database.
	Pool *pgxpool.Pool
	// Inserter enqueues River jobs in the API's transactions.
	Inserter jobs.Inserter
	// CheckURL refuses task URLs the delivery client would refuse (scheme,
	// SSRF guard), at registration.
	CheckURL func(string) error
	// Limits bound what one job may contain.
	Limits jobspec.Limits
	// MaxBodyBytes bounds a request body. Default 8 MiB.
	MaxBodyBytes int64
	// Logger receives request errors. Default discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Metrics counts runs the API ends (cancel). Default none.
	Metrics *metrics.Metrics
	// Devices is the device registry.
	Devices *device.Registry
	// Heartbeats writes devices' heartbeats, batched; started by the caller.
	Heartbeats *device.Heartbeats
	// DeviceTimeout is how long a device stays online after a heartbeat.
	// Default device.DefaultTimeout.
	DeviceTimeout time.Duration
	// Hub wakes long-polls of pull-mode devices when a task is offered to
	// them; the caller runs it. Nil: no pull endpoints.
	Hub *notify.Hub
	// InboundRate and InboundBurst limit the calls to each job's inbound
	// hook that this process admits (a token bucket per job). Defaults
	// DefaultInboundRate and DefaultInboundBurst.
	InboundRate  float64
	InboundBurst int
}

// API is the /v1 REST API.
type API struct {
	pool     *pgxpool.Pool
	inserter jobs.Inserter
	checkURL func(string) error
	limits   jobspec.Limits
	maxBody  int64
	logger   *slog.Logger
	now      func() time.Time
	metrics  *metrics.Metrics
	// devices, heartbeats and deviceTimeout serve /v1/devices.
	devices       *device.Registry
	heartbeats    *device.Heartbeats
	deviceTimeout time.Duration
	hub           *notify.Hub
	// fleet is this process's view of the devices, for the job page's
	// placements (nil without devices).
	fleet *device.Fleet
	// schedules keeps parsed cron expressions for showing next fire times.
	schedules schedule.Cache
	// starts creates the runs of concurrent triggers together (startRuns);
	// its flushers start with the first trigger and live with the process.
	starts     *batch.Batcher[triggerItem, triggerResult]
	startsOnce sync.Once
	// creates stores the jobs of concurrent registrations together
	// (createJobs), started like starts.
	creates     *batch.Batcher[createItem, createResult]
	createsOnce sync.Once
	// inboundLimit limits the calls to each job's inbound hook.
	inboundLimit *jobLimiter
	// live shares the reads of live run views.
	live *liveRuns
}

// NewAPI returns the REST API.
func NewAPI(cfg APIConfig) *API {
	a := &API{
		pool:     cfg.Pool,
		inserter: cfg.Inserter,
		checkURL: cfg.CheckURL,
		limits:   cfg.Limits,
		maxBody:  cmp.Or(cfg.MaxBodyBytes, 8<<20),
		logger:   cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		now:      cfg.Now,
		metrics:  cfg.Metrics,

		devices:       cfg.Devices,
		heartbeats:    cfg.Heartbeats,
		deviceTimeout: cmp.Or(cfg.DeviceTimeout, device.DefaultTimeout),
		hub:           cfg.Hub,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.devices != nil && a.pool != nil {
		a.fleet = device.NewFleet(a.pool, a.deviceTimeout, 0)
	}
	a.starts = batch.New(500, 2, a.startRuns).SpillAfter(batch.DefaultSpill)
	a.creates = batch.New(maxCreateBatch, 2, a.createJobs)
	a.live = newLiveRuns(a.readRunBody, livePoll)
	a.inboundLimit = newJobLimiter(cmp.Or(cfg.InboundRate, DefaultInboundRate), cmp.Or(cfg.InboundBurst, DefaultInboundBurst), a.now)
	return a
}

// parseFunc fills a typed request from the path, query and body.
type parseFunc[Req any] func(http.ResponseWriter, *http.Request, *Req) error

// writeCore is the typed core of an endpoint that writes: it writes in the
// transaction it is given, and commits nothing itself.
type writeCore[Req, Resp any] func(ctx context.Context, tx pgx.Tx, req *Req) (*Resp, error)

// endpoint adapts a typed core, Execute(ctx, req) (resp, error), to HTTP:
// parse fills the request from the path, query and body; the response is
// written as JSON with the given status, errors as problem+json.
func endpoint[Req, Resp any](a *API, status int, parse parseFunc[Req], execute func(context.Context, *Req) (*Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := new(Req)
		if parse != nil {
			if err := parse(w, r, req); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
		}
		resp, err := execute(r.Context(), req)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		writeResponse(w, status, resp)
	}
}

// write is endpoint for a core that writes: it runs in a transaction of its
// own, committed when the core succeeds, with the write's audit row.
func write[Req, Resp any](a *API, status int, parse parseFunc[Req], execute writeCore[Req, Resp]) http.HandlerFunc {
	return endpoint(a, status, parse, func(ctx context.Context, req *Req) (*Resp, error) {
		return inTx(a, ctx, req, status, execute)
	})
}

// inTx runs execute in a transaction that also records the write's audit
// row (answered status) when it succeeds; a transaction lost to a conflict
// with a concurrent one is run again (store.InTx).
func inTx[Req, Resp any](a *API, ctx context.Context, req *Req, status int, execute writeCore[Req, Resp]) (*Resp, error) {
	var resp *Resp
	err := store.InTx(ctx, a.pool, func(tx pgx.Tx) error {
		var err error
		if resp, err = execute(ctx, tx, req); err != nil {
			return err
		}
		return a.auditInTx(ctx, tx, status, objectOf(resp))
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// writeResponse sends resp as JSON with status (its Location header when it
// has one), or status alone for a nil resp.
func writeResponse[Resp any](w http.ResponseWriter, status int, resp *Resp) {
	if resp == nil {
		w.WriteHeader(status)
		return
	}
	if l, ok := any(resp).(interface{ location() string }); ok {
		w.Header().Set("Location", l.location())
	}
	writeJSON(w, status, resp)
}
