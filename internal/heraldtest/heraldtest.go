// Package heraldtest starts a whole herald for tests: a fresh database, the
// River client working the delivery queue, the REST API on an httptest server, and
// webhook receivers that record what they get. Everything is real; only the
// process boundary is missing.
package heraldtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/handlers"
	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/replica"
	"github.com/herald-sched/herald/jobs"
)

// APIKey is the bootstrap key of every test herald.
const APIKey = "test-key"

// Herald is a running test herald.
type Herald struct {
	// Pool is the herald's own fresh database.
	Pool *pgxpool.Pool
	// River is herald's client: River, and when it works, the ticker.
	River *jobs.Client
	// Replica is the working client's registration (nil without work).
	Replica *replica.Replica
	// API is the REST API.
	API *handlers.API
	// Server serves the router (API, health, OpenAPI document).
	Server *httptest.Server
	// Routes is the router, unwrapped.
	Routes http.Handler

	t testing.TB
}

// Options adjust a test herald.
type Options struct {
	// NoWork makes the River client insert-only (no deliveries happen).
	NoWork bool
	// Wrap, if set, wraps the router (tests validate traffic against the OpenAPI document).
	Wrap func(http.Handler) http.Handler
	// MisfireGrace overrides jobs.DefaultMisfireGrace.
	MisfireGrace time.Duration
	// Jobs adjusts the River client's configuration.
	Jobs func(*jobs.Config)
	// TracerProvider traces the API, runs, River jobs and requests.
	TracerProvider trace.TracerProvider
	// Replica adjusts the working client's registration (heartbeats,
	// clock); a working herald always registers one.
	Replica func(*replica.Config)
	// DeviceTimeout overrides device.DefaultTimeout.
	DeviceTimeout time.Duration
	// API adjusts the REST API's configuration.
	API func(*handlers.APIConfig)
}

// Logger returns a logger for tests: errors only (a failing test shows the
// cause of a 500), everything when HERALD_TEST_LOG is set.
func Logger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("HERALD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Start starts a herald on a fresh database; it stops at the end of the test.
func Start(t testing.TB, opts Options) *Herald {
	t.Helper()
	pool := dbtest.New(t)
	return StartOn(t, pool, opts)
}

// StartOn starts a herald on an existing database (several heralds may share one).
func StartOn(t testing.TB, pool *pgxpool.Pool, opts Options) *Herald {
	t.Helper()
	logger := Logger()
	dispatcher := dispatch.New(dispatch.Config{
		AllowedNetworks:  []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		MaxResponseBytes: jobs.MaxResultBytes,
		TracerProvider:   opts.TracerProvider,
	})
	registry := prometheus.NewRegistry()
	registry.MustRegister(metrics.NewDBCollector(pool, logger).WithQueues(jobs.QueueDeliver))
	m := metrics.New(registry)
	cfg := jobs.Config{
		Work:         !opts.NoWork,
		Dispatcher:   dispatcher,
		Logger:       logger,
		MisfireGrace: opts.MisfireGrace,
		Metrics:      m,

		TracerProvider: opts.TracerProvider,
		DeviceTimeout:  opts.DeviceTimeout,
	}
	hub := notify.New(pool, logger, notify.DeviceOffers, notify.DeviceResults, notify.DeviceGone)
	hubCtx, stopHub := context.WithCancel(context.Background())
	t.Cleanup(stopHub)
	go hub.Run(hubCtx)
	cfg.Hub = hub
	var live *replica.Replica
	if !opts.NoWork {
		rcfg := replica.Config{Role: "all", Version: "test", Logger: logger, Metrics: m}
		if opts.Replica != nil {
			opts.Replica(&rcfg)
		}
		var err error
		live, err = replica.New(pool, rcfg)
		require.NoError(t, err)
		cfg.Replica = live
	}
	if opts.Jobs != nil {
		opts.Jobs(&cfg)
	}
	client, err := jobs.NewClient(pool, cfg)
	require.NoError(t, err)
	if !opts.NoWork {
		sweeper := &device.Sweeper{Pool: pool, Timeout: opts.DeviceTimeout, Logger: logger}
		require.NoError(t, live.Start(context.Background(), client, sweeper))
		require.NoError(t, client.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := client.Stop(ctx); err != nil {
				_ = client.StopAndCancel(ctx)
			}
			_ = live.Stop(ctx)
		})
	}
	heartbeats := device.NewHeartbeats(pool)
	// Not t.Context(): it ends before the cleanups that stop what still
	// heartbeats (a test's fake devices).
	beatCtx, stopBeats := context.WithCancel(context.Background())
	t.Cleanup(stopBeats)
	heartbeats.Start(beatCtx)
	apiCfg := handlers.APIConfig{
		Devices:       device.NewRegistry(pool, dispatcher.CheckURL),
		Heartbeats:    heartbeats,
		DeviceTimeout: opts.DeviceTimeout,
		Hub:           hub,
		Pool:          pool,
		Inserter:      client,
		CheckURL:      dispatcher.CheckURL,
		Logger:        logger,
		Metrics:       m,
	}
	if opts.API != nil {
		opts.API(&apiCfg)
	}
	api := handlers.NewAPI(apiCfg)
	routes := handlers.NewRouter(handlers.RouterConfig{
		API:     api,
		APIKey:  APIKey,
		Ready:   func(ctx context.Context) error { return pool.Ping(ctx) },
		Metrics: promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Logger:  logger,

		TracerProvider: opts.TracerProvider,
		RequestMetrics: m,
	})
	h := routes
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Herald{Pool: pool, River: client, Replica: live, API: api, Server: srv, Routes: routes, t: t}
}

// Response is an API response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Do calls the API with the test key. body may be nil, a string (sent as
// is) or any value (sent as JSON).
func (h *Herald) Do(method, path string, body any) *Response {
	return h.DoWithHeader(method, path, body, http.Header{"Authorization": {"Bearer " + APIKey}})
}

// DoWithHeader calls the API with exactly the given headers.
func (h *Herald) DoWithHeader(method, path string, body any, header http.Header) *Response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.Server.URL+path, rd)
	require.NoError(h.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.Server.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// EventuallySlack multiplies the bound of every Eventually. make test runs
// every package at once on a two-core machine, where River's notifications,
// fetches and scheduler runs can come seconds late; a bound says how long to
// wait for what must happen, never how fast it must (timing is measured in
// cmd/herald-bench), and a passing test returns as soon as its condition
// holds.
const EventuallySlack = 3

// Eventually polls cond every 10ms until it holds or within (times
// EventuallySlack) has passed.
func Eventually(t testing.TB, within time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	require.Eventually(t, cond, EventuallySlack*within, 10*time.Millisecond, msgAndArgs...)
}
