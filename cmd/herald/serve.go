package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
	"riverqueue.com/riverui"

	"github.com/herald-sched/herald/handlers"
	"github.com/herald-sched/herald/internal/access"
	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/replica"
	"github.com/herald-sched/herald/internal/tracing"
	"github.com/herald-sched/herald/jobs"
	"github.com/herald-sched/herald/migrations"
)

// serveSettings are the flags of `herald serve`.
type serveSettings struct {
	db              dbSettings
	addr            string
	metricsAddr     string
	role            string
	apiKey          string
	insecure        bool
	noMigrate       bool
	allowedNetworks string
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
	maxBodyBytes    int
	deliveryWorkers int
	firePoll        time.Duration
	rescueAfter     time.Duration
	misfireGrace    time.Duration
	maxTasks        int
	maxPerHost      int
	maxTimeout      time.Duration
	circuit         int
	probeInterval   time.Duration
	parkDeadline    time.Duration
	heartbeat       time.Duration
	replicaTimeout  time.Duration
	deviceTimeout   time.Duration
	auditRetention  time.Duration
	maxClockOffset  time.Duration
}

func (c *serveSettings) register(s *settings) {
	c.db.register(s)
	s.String(&c.addr, "addr", "HERALD_ADDR", ":8080", "HTTP listen address.")
	s.String(&c.metricsAddr, "metrics-addr", "HERALD_METRICS_ADDR", "", "Serve /metrics (unauthenticated) only on this address, e.g. 127.0.0.1:9090,\ninstead of on --addr.")
	s.String(&c.role, "role", "HERALD_ROLE", "all", "What this process runs: api (REST API), worker (schedulers and deliveries) or all.")
	s.String(&c.apiKey, "api-key", "HERALD_API_KEY", "", "Bootstrap admin API key: /v1 requests need Authorization: Bearer <key>.")
	s.Bool(&c.insecure, "insecure-no-auth", "HERALD_INSECURE_NO_AUTH", false, "Serve /v1 without authentication (development only; logged loudly).")
	s.Bool(&c.noMigrate, "no-migrate", "HERALD_NO_MIGRATE", false, "Do not apply migrations at start (run `herald migrate` yourself).")
	s.String(&c.allowedNetworks, "allowed-target-networks", "HERALD_ALLOWED_TARGET_NETWORKS", "", "Comma-separated CIDRs that tasks may call although they are loopback, private,\nlink-local or otherwise refused (e.g. 10.20.0.0/16 for an edge LAN).")
	s.String(&c.logFormat, "log-format", "HERALD_LOG_FORMAT", "text", "Log format: text or json.")
	s.String(&c.logLevel, "log-level", "HERALD_LOG_LEVEL", "info", "Log level: debug, info, warn or error.")
	s.Duration(&c.shutdownTimeout, "shutdown-timeout", "HERALD_SHUTDOWN_TIMEOUT", 30*time.Second, "On SIGTERM/SIGINT, how long in-flight requests and deliveries may take to finish;\ndeliveries still running then are released to other replicas.")
	s.Int(&c.maxBodyBytes, "max-body-bytes", "HERALD_MAX_BODY_BYTES", 8<<20, "Largest REST API request body (a 10,000-task DAG takes a few MB).")
	s.Int(&c.maxTasks, "max-tasks", "HERALD_MAX_TASKS", jobspec.DefaultMaxTasks, "Most tasks in one job (DAG workflows).")
	s.Int(&c.deliveryWorkers, "delivery-workers", "HERALD_DELIVERY_WORKERS", jobs.DefaultDeliveryWorkers, "Deliveries in flight at once in this process; a delivery of a tick holds one\nfrom 250ms before the tick: firing N schedules in one instant on time takes N.")
	s.Int(&c.maxPerHost, "max-in-flight-per-host", "HERALD_MAX_IN_FLIGHT_PER_HOST", jobs.DefaultMaxInFlightPerHost, "Deliveries in flight at once to one target host, per process: a hung device\ncannot take more than this many delivery workers; more wait up to 100ms for a slot,\nthen are put back without using an attempt. As many idle connections per host are kept.")
	s.Int(&c.circuit, "circuit-threshold", "HERALD_CIRCUIT_THRESHOLD", jobs.DefaultCircuitThreshold, "Consecutive failed deliveries to a host that open its circuit (deliveries parked,\none probe at a time); -1 disables circuits.")
	s.Duration(&c.probeInterval, "circuit-probe-interval", "HERALD_CIRCUIT_PROBE_INTERVAL", jobs.DefaultProbeInterval, "How often an open circuit lets one delivery through as a probe.")
	s.Duration(&c.parkDeadline, "circuit-park-deadline", "HERALD_CIRCUIT_PARK_DEADLINE", jobs.DefaultParkDeadline, "How long a delivery may wait behind an open circuit before it is attempted as usual.")
	s.Duration(&c.firePoll, "fire-poll-interval", "HERALD_FIRE_POLL_INTERVAL", jobs.DefaultFirePollInterval, "How often this process looks for due ticks and delivery attempts: bounds how late\na tick of a job with overlap skip or queue starts (overlap allow: claimed 1.5s ahead).")
	s.Duration(&c.misfireGrace, "misfire-grace", "HERALD_MISFIRE_GRACE", jobs.DefaultMisfireGrace, "How late a tick may start and still count as on time; older ticks were missed\n(no replica ran, or the job was paused) and the job's misfire policy applies.")
	s.Duration(&c.maxTimeout, "max-request-timeout", "HERALD_MAX_REQUEST_TIMEOUT", jobspec.DefaultMaxTimeout, "Longest request.timeout a task may set.")
	s.Duration(&c.heartbeat, "heartbeat-interval", "HERALD_HEARTBEAT_INTERVAL", replica.DefaultHeartbeatInterval, "How often this process records in PostgreSQL that it is alive (at least 100ms).")
	s.Duration(&c.replicaTimeout, "replica-timeout", "HERALD_REPLICA_TIMEOUT", replica.DefaultTimeout, "A replica silent this long is dead: a surviving worker puts the deliveries it held\nback in the queue (same webhook-id). At least 3 heartbeat intervals. This process\nstops sending when its own heartbeats have failed for this long minus one interval.")
	s.Duration(&c.deviceTimeout, "device-timeout", "HERALD_DEVICE_TIMEOUT", device.DefaultTimeout, "A device is online until this long passes without a heartbeat; then it is offline\nand what was placed on it is placed again (judged by a worker replica connected\nfor at least this long).")
	s.Duration(&c.auditRetention, "audit-retention", "HERALD_AUDIT_RETENTION", access.DefaultAuditRetention, "How long the audit log (GET /v1/audit) keeps each API write.")
	s.Duration(&c.maxClockOffset, "max-clock-offset", "HERALD_MAX_CLOCK_OFFSET", replica.DefaultMaxClockOffset, "Log a warning when this process's clock is further than this from PostgreSQL's\n(staged deliveries are sent by PostgreSQL's clock either way).")
	s.Duration(&c.rescueAfter, "rescue-after", "HERALD_RESCUE_AFTER", jobs.DefaultRescueAfter, "Last resort for a replica that heartbeats but is stuck: a delivery running this long\nis retried with the same webhook-id (River's stuck-job rescue, which looks every 30s).\nAt least --max-request-timeout plus 15s. A dead replica's deliveries move after\n--replica-timeout instead.")
}

func parseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			if addr, aerr := netip.ParseAddr(part); aerr == nil {
				p = netip.PrefixFrom(addr, addr.BitLen())
			} else {
				return nil, fmt.Errorf("HERALD_ALLOWED_TARGET_NETWORKS: %q is not a CIDR", part)
			}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c serveSettings
	s := newSettings("serve", stderr)
	s.footer = tracingHelp
	c.register(s)
	if err := s.parse(args, nil); err != nil {
		return err
	}
	logger, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return failed(logger, c.logFormat, "serve", err)
	}
	return failed(logger, c.logFormat, "serve", listenAndServe(ctx, &c, logger, stdout))
}

// listenAndServe takes the port, then builds and runs the server.
func listenAndServe(ctx context.Context, c *serveSettings, logger *slog.Logger, stdout io.Writer) error {
	// The port first: a taken port fails before the database is touched.
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	p, err := build(ctx, c, logger)
	if err != nil {
		return err
	}
	defer p.close()
	return p.serve(ctx, ln, stdout)
}

// validate refuses settings that cannot work, naming the flag.
func (c *serveSettings) validate() error {
	if !c.runAPI() && !c.runWorker() {
		return fmt.Errorf("--role %q: want api, worker or all", c.role)
	}
	if c.runAPI() && c.apiKey == "" && !c.insecure {
		return errors.New("no API key: set HERALD_API_KEY (or --api-key), or pass --insecure-no-auth for an unauthenticated development server")
	}
	if _, err := parseNetworks(c.allowedNetworks); err != nil {
		return err
	}
	return c.replicaConfig().Validate()
}

func (c *serveSettings) runAPI() bool    { return c.role == "all" || c.role == "api" }
func (c *serveSettings) runWorker() bool { return c.role == "all" || c.role == "worker" }

func (c *serveSettings) replicaConfig() replica.Config {
	return replica.Config{
		Role:              c.role,
		Version:           revision(),
		HeartbeatInterval: c.heartbeat,
		Timeout:           c.replicaTimeout,
		MaxClockOffset:    c.maxClockOffset,
	}
}

// server is what `herald serve` runs: built by build, run by serve, shut
// down by serve's end and close.
type server struct {
	c       *serveSettings
	logger  *slog.Logger
	traces  *tracing.Provider
	pool    *pgxpool.Pool
	closeDB func()
	live    *replica.Replica
	client  *jobs.Client
	handler http.Handler
	// heartbeats writes devices' heartbeats; sweeper declares devices offline.
	heartbeats *device.Heartbeats
	sweeper    *device.Sweeper
	hub        *notify.Hub
	// stopMetrics closes the metrics listener of --metrics-addr.
	stopMetrics func()
}

// build connects to (or starts) the database, migrates it, and builds the
// registration, River client, API and router.
func build(ctx context.Context, c *serveSettings, logger *slog.Logger) (_ *server, err error) {
	p := &server{c: c, logger: logger, closeDB: func() {}}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	networks, _ := parseNetworks(c.allowedNetworks) // validated
	if p.traces, err = tracing.Setup(ctx, os.Getenv, revision()); err != nil {
		return nil, err
	}
	var tp trace.TracerProvider // nil: no tracing, no instrumentation cost
	if p.traces.Enabled {
		tp = p.traces
		logger.Info("tracing on: OpenTelemetry spans are exported over OTLP")
	}
	pool, closeDB, err := c.db.open(ctx, logger, true)
	if err != nil {
		return nil, err
	}
	p.pool, p.closeDB = pool, closeDB
	if !c.noMigrate {
		if _, err := migrations.Migrate(ctx, p.pool, logger); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewDBCollector(p.pool, logger).WithQueues(jobs.QueueDeliver))
	metrics.RegisterBuildInfo(registry, version, vcsRevision())
	m := metrics.New(registry)
	// One listening connection for the process: long-polls of pull-mode
	// devices and workers waiting for their results wait on it.
	p.hub = notify.New(p.pool, logger, notify.DeviceOffers, notify.DeviceResults, notify.DeviceGone)
	rcfg := c.replicaConfig()
	rcfg.Logger, rcfg.Metrics = logger, m
	if p.live, err = replica.New(p.pool, rcfg); err != nil {
		return nil, err
	}

	dispatcher := dispatch.New(dispatch.Config{
		AllowedNetworks:  networks,
		MaxResponseBytes: jobs.MaxResultBytes,
		// As many idle connections per host as deliveries in flight to it:
		// a burst of ticks to one host reuses them instead of dialling.
		MaxIdleConnsPerHost: c.maxPerHost,
		TracerProvider:      tp,
	})
	p.client, err = jobs.NewClient(p.pool, jobs.Config{
		Work:               c.runWorker(),
		DeliveryWorkers:    c.deliveryWorkers,
		MaxInFlightPerHost: c.maxPerHost,
		FirePollInterval:   c.firePoll,
		RescueAfter:        c.rescueAfter,
		MisfireGrace:       c.misfireGrace,
		MaxRequestTimeout:  c.maxTimeout,
		CircuitThreshold:   c.circuit,
		ProbeInterval:      c.probeInterval,
		ParkDeadline:       c.parkDeadline,
		Dispatcher:         dispatcher,
		Metrics:            m,
		Logger:             logger,
		TracerProvider:     tp,
		Replica:            p.live,
		DeviceTimeout:      c.deviceTimeout,
		Hub:                p.hub,
	})
	if err != nil {
		return nil, err
	}

	var api *handlers.API
	var riverUI http.Handler
	if c.runAPI() {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(p.client.Client, nil),
			Logger:    logger,
			Prefix:    "/riverui",
		})
		if err != nil {
			return nil, fmt.Errorf("river ui: %w", err)
		}
		// Not ctx: it stops with the process.
		if err := ui.Start(context.WithoutCancel(ctx)); err != nil {
			return nil, fmt.Errorf("start river ui: %w", err)
		}
		riverUI = ui
		p.heartbeats = device.NewHeartbeats(p.pool)
		api = handlers.NewAPI(handlers.APIConfig{
			Devices:       device.NewRegistry(p.pool, dispatcher.CheckURL),
			Heartbeats:    p.heartbeats,
			DeviceTimeout: c.deviceTimeout,
			Hub:           p.hub,
			Pool:          p.pool,
			Inserter:      p.client,
			CheckURL:      dispatcher.CheckURL,
			MaxBodyBytes:  int64(c.maxBodyBytes),
			Limits:        jobspec.Limits{MaxTasks: c.maxTasks, MaxTimeout: c.maxTimeout},
			Metrics:       m,
			Logger:        logger,
		})
	}
	metricsHandler, stopMetrics, err := serveMetrics(c.metricsAddr, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), logger)
	if err != nil {
		return nil, err
	}
	p.stopMetrics = stopMetrics
	p.handler = handlers.NewRouter(handlers.RouterConfig{
		API:      api,
		APIKey:   c.apiKey,
		Insecure: c.insecure,
		Ready:    func(ctx context.Context) error { return ready(ctx, p.pool) },
		Metrics:  metricsHandler,
		Logger:   logger,
		RiverUI:  riverUI,

		TracerProvider: tp,
		RequestMetrics: m,
	})
	return p, nil
}

// close releases what build acquired.
func (p *server) close() {
	if p.stopMetrics != nil {
		p.stopMetrics()
	}
	p.closeDB()
	if p.traces != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.traces.Shutdown(ctx); err != nil {
			p.logger.Warn("traces not flushed", slog.Any("error", err))
		}
	}
}

// serve registers the replica, starts the workers and serves HTTP on ln
// until ctx ends (SIGTERM, SIGINT), then shuts down.
func (p *server) serve(ctx context.Context, ln net.Listener, stdout io.Writer) error {
	c := p.c
	var work replica.Work // nil: the API role neither reclaims nor is fenced
	if c.runWorker() {
		work = p.client
	}
	var sweepers []replica.Sweeper
	if c.runWorker() {
		sweepers = append(sweepers, &device.Sweeper{Pool: p.pool, Timeout: c.deviceTimeout, Logger: p.logger},
			&access.AuditRetention{Pool: p.pool, Keep: c.auditRetention})
	}
	if err := p.live.Start(ctx, work, sweepers...); err != nil {
		return err
	}
	if p.heartbeats != nil {
		p.heartbeats.Start(context.WithoutCancel(ctx)) // lives with the process
	}
	go p.hub.Run(context.WithoutCancel(ctx)) // lives with the process
	if c.runWorker() {
		// Not ctx: a signal must not cancel deliveries in flight. The client
		// stops below, gracefully.
		if err := p.client.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
	}
	if c.insecure {
		p.logger.Warn("!!! /v1 IS SERVED WITHOUT AUTHENTICATION (--insecure-no-auth): anyone who can reach " + c.addr + " can register webhooks !!!")
	}
	srv := &http.Server{
		Handler:           p.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn),
	}
	p.logger.Info("herald is serving", slog.String("addr", ln.Addr().String()), slog.String("role", c.role), slog.String("replica", p.live.ID()))
	announce(stdout, c.logFormat, "herald listening on "+ln.Addr().String(), slog.String("addr", ln.Addr().String()))

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	p.shutdown(srv)
	return nil
}

// shutdown stops accepting requests, lets requests and deliveries in flight
// finish within the shutdown timeout, releases the rest, and records the
// replica's clean exit.
func (p *server) shutdown(srv *http.Server) {
	p.logger.Info("shutting down", slog.String("timeout", p.c.shutdownTimeout.String()))
	ctx, cancel := context.WithTimeout(context.Background(), p.c.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		p.logger.Warn("http shutdown", slog.Any("error", err))
	}
	if p.c.runWorker() {
		// Let in-flight deliveries finish; past the timeout, cancel them: River
		// puts their jobs back as available, without using up an attempt.
		if err := p.client.Stop(ctx); err != nil {
			p.logger.Warn("deliveries still running at the shutdown timeout: releasing them", slog.Any("error", err))
			releaseCtx, cancelRelease := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancelRelease()
			if err := p.client.StopAndCancel(releaseCtx); err != nil {
				p.logger.Error("release deliveries", slog.Any("error", err))
			}
		}
	}
	// Whatever River could not release is put back by the replica's own
	// reclaim, with its exit; if even that fails, survivors reclaim it
	// after --replica-timeout.
	stopCtx, cancelStop := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelStop()
	if err := p.live.Stop(stopCtx); err != nil {
		p.logger.Warn("replica exit not recorded; survivors reclaim what it held after its timeout", slog.Any("error", err))
	}
	p.logger.Info("stopped")
}

// ready is /readyz: the database answers and its schema is current.
func ready(ctx context.Context, pool *pgxpool.Pool) error {
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	return migrations.Check(ctx, pool)
}

// revision is the version stamped at link time (version) or else the VCS
// revision the binary was built from, for the replica's registration and
// traces' service.version; "devel" when unknown.
func revision() string {
	if version != "" {
		return version
	}
	if r := vcsRevision(); r != "" {
		return r
	}
	return "devel"
}

// vcsRevision is the VCS revision the binary was built from, with
// "-dirty" when the tree had changes; "" when the build does not say.
func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

// tracingHelp ends `herald serve --help`.
const tracingHelp = `Traces (OpenTelemetry) are configured by the standard OTEL_* variables and are
off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set
or OTEL_TRACES_EXPORTER=otlp: OTLP over HTTP (http/protobuf), OTEL_SERVICE_NAME
(default herald), OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG),
OTEL_EXPORTER_OTLP_HEADERS, OTEL_SDK_DISABLED=true. One trace per run: each API
request, each run's start (a child of the request that triggered it, a root for
a tick), each delivery attempt (River's work span, a child of the run's span on
any replica and at every retry) and its outgoing request, whose trace context
(traceparent) the webhook carries.`
