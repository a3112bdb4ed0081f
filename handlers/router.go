// Package handlers is herald's HTTP surface: the /v1 REST API, health
// endpoints, the OpenAPI document and the pages.
package handlers

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/jobs"
	"github.com/herald-sched/herald/openapi"
	"github.com/herald-sched/herald/views"
)

// RouterConfig configures the HTTP handler.
type RouterConfig struct {
	// API serves /v1.
	API *API
	// APIKey is the bootstrap bearer key for /v1. Empty requires Insecure.
	APIKey string
	// Insecure serves /v1 without authentication.
	Insecure bool
	// Ready reports whether the database is reachable and migrated (/readyz).
	Ready func(context.Context) error
	// Metrics serves /metrics (Prometheus); nil leaves the route out.
	Metrics http.Handler
	// RiverUI, River's own UI (riverqueue.com/riverui, prefix /riverui), is
	// mounted at /riverui behind the API key (Bearer, or the password of
	// HTTP Basic authentication for a browser) and cross-origin protection;
	// nil leaves it out. It needs the API (for the keys).
	RiverUI http.Handler
	// Logger receives request errors. Default discards.
	Logger *slog.Logger
	// TracerProvider, if set, traces each request (otelhttp: a server span
	// named after its route, continuing the caller's W3C trace context).
	TracerProvider trace.TracerProvider
	// RequestMetrics, if set, counts each request by route, method and
	// status class (herald_http_requests_total and
	// herald_http_request_duration_seconds).
	RequestMetrics *metrics.Metrics
}

// NewRouter returns the handler for every herald HTTP route.
func NewRouter(cfg RouterConfig) http.Handler {
	logger := cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	a := cfg.API
	r := chi.NewRouter()
	// Each request has an id (the caller's X-Request-Id when it sends a
	// sane one), answered in X-Request-Id and kept in its audit row.
	r.Use(middleware.RequestID, echoRequestID, withRequest)
	if cfg.RequestMetrics != nil {
		r.Use(countRequests(cfg.RequestMetrics))
	}
	if cfg.TracerProvider != nil {
		r.Use(nameSpan)
	}

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := cfg.Ready(ctx); err != nil {
			logger.WarnContext(r.Context(), "not ready", slog.Any("error", err))
			writeProblem(w, &apiError{status: http.StatusServiceUnavailable, kind: "not-ready", detail: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	r.Handle("/static/*", http.FileServerFS(views.Static))
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openapi.Document)
	})

	if cfg.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", cfg.Metrics)
	}
	if a != nil {
		r.Route("/v1", a.routes(cfg.APIKey, cfg.Insecure))
		r.Group(a.pageRoutes(cfg.APIKey, cfg.Insecure))
		if cfg.RiverUI != nil {
			ui := a.requireKeyAs(cfg.APIKey, cfg.Insecure, true)(a.requireScope(http.NewCrossOriginProtection().Handler(cfg.RiverUI)))
			r.Handle("/riverui", ui)
			r.Handle("/riverui/*", ui)
		}
	}
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, &apiError{status: http.StatusNotFound, kind: "not-found", detail: "no such route"})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, &apiError{status: http.StatusMethodNotAllowed, kind: "method-not-allowed", detail: "method not allowed on this route"})
	})
	if cfg.TracerProvider == nil {
		return r
	}
	return otelhttp.NewHandler(r, "herald",
		otelhttp.WithTracerProvider(cfg.TracerProvider),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/metrics" }),
	)
}

// nameSpan names the request's span after the route that served it
// ("POST /v1/jobs/{jobID}/runs"), known once chi has routed it.
func nameSpan(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if pattern := rc.RoutePattern(); pattern != "" {
				trace.SpanFromContext(r.Context()).SetName(r.Method + " " + pattern)
			}
		}
	})
}

// routes mounts the /v1 endpoints behind the API key check.
func (a *API) routes(apiKey string, insecure bool) func(chi.Router) {
	return func(r chi.Router) {
		r.Use(refuseBadInput(func(w http.ResponseWriter, r *http.Request, err error) { writeError(w, r, a.logger, err) }))
		if a.devices != nil {
			// A device's own endpoints, with its token.
			r.Group(func(r chi.Router) {
				r.Use(a.requireDevice)
				r.Post("/devices/{deviceID}/heartbeat", endpoint(a, http.StatusNoContent, a.parseHeartbeat, a.heartbeat))
				if a.hub != nil {
					r.Get("/devices/{deviceID}/tasks", a.pullTasks)
					r.Post("/devices/{deviceID}/tasks/{leaseID}/result", endpoint(a, http.StatusNoContent, a.parseResult, a.reportResult))
				}
			})
		}
		// Inbound triggers: the signature is the authentication.
		r.Post("/hooks/{jobID}", a.inbound)
		r.Group(a.keyRoutes(apiKey, insecure))
	}
}

// keyRoutes are the /v1 endpoints that take an API key.
func (a *API) keyRoutes(apiKey string, insecure bool) func(chi.Router) {
	return func(r chi.Router) {
		r.Use(a.requireKey(apiKey, insecure))
		r.Use(a.auditWrites)
		r.Use(a.requireScope)
		if a.devices != nil {
			r.Post("/devices", write(a, http.StatusCreated, a.parseDevice, a.createDevice))
			r.Get("/devices", endpoint(a, http.StatusOK, parseListDevices, a.listDevices))
			r.Get("/devices/{deviceID}", endpoint(a, http.StatusOK, parseDeviceID, a.getDevice))
			r.Put("/devices/{deviceID}", write(a, http.StatusOK, a.parseDevice, a.updateDevice))
			r.Delete("/devices/{deviceID}", write(a, http.StatusNoContent, parseDeviceID, a.deleteDevice))
		}
		r.Post("/jobs", idempotent(a, http.StatusCreated, a.parseCreateJob, a.createJob,
			endpoint(a, http.StatusCreated, a.parseCreateJob, a.batchedCreateJob)))
		r.Get("/jobs", endpoint(a, http.StatusOK, parseListJobs, a.listJobs))
		r.Get("/jobs/{jobID}", endpoint(a, http.StatusOK, parseJobID, a.getJob))
		r.Put("/jobs/{jobID}", write(a, http.StatusOK, a.parseUpdateJob, a.updateJob))
		r.Delete("/jobs/{jobID}", write(a, http.StatusNoContent, parseJobID, a.deleteJob))
		r.Post("/jobs/{jobID}/pause", write(a, http.StatusOK, parseJobID, a.setPaused(true)))
		r.Post("/jobs/{jobID}/resume", write(a, http.StatusOK, parseJobID, a.setPaused(false)))
		r.Post("/schedules/preview", endpoint(a, http.StatusOK, a.parsePreview, a.previewSchedule))
		r.Post("/jobs/{jobID}/runs", a.triggerRun())
		r.Get("/runs", endpoint(a, http.StatusOK, parseListRuns, a.listRuns))
		r.Get("/runs/{runID}", endpoint(a, http.StatusOK, parseRunID, a.getRun))
		r.Post("/jobs/{jobID}/rotate-secret", write(a, http.StatusOK, parseJobID, a.rotateSecret))
		r.Post("/jobs/{jobID}/rotate-inbound-secret", write(a, http.StatusOK, parseJobID, a.rotateInboundSecret))
		r.Post("/runs/replay", write(a, http.StatusOK, a.parseReplay, a.replayRuns))
		r.Post("/runs/{runID}/cancel", endpoint(a, http.StatusOK, parseRunID, a.runControl(jobs.CancelRun, http.StatusOK)))
		r.Post("/runs/{runID}/retry", endpoint(a, http.StatusAccepted, parseRunID, a.runControl(jobs.RetryRun, http.StatusAccepted)))
		r.Post("/runs/{runID}/pause", endpoint(a, http.StatusOK, parseRunID, a.runControl(pauseRollouts, http.StatusOK)))
		r.Post("/runs/{runID}/resume", endpoint(a, http.StatusOK, parseRunID, a.runControl(jobs.ResumeRollouts, http.StatusOK)))
		r.Get("/runs/{runID}/tasks/{taskID}/devices", endpoint(a, http.StatusOK, parseListMembers, a.listMembers))
		r.Get("/jobs/{jobID}/graph", a.jobGraph)
		r.Get("/endpoints", endpoint(a, http.StatusOK, nil, a.listEndpoints))
		r.Get("/replicas", endpoint(a, http.StatusOK, nil, a.listReplicas))
		r.Get("/audit", endpoint(a, http.StatusOK, parseListAudit, a.listAudit))
		r.Post("/keys", write(a, http.StatusCreated, a.parseCreateKey, a.createKey))
		r.Get("/keys", endpoint(a, http.StatusOK, nil, a.listKeys))
		r.Delete("/keys/{keyID}", write(a, http.StatusNoContent, parseKeyID, a.revokeKey))
		r.Get("/runs/{runID}/graph", a.runGraph)
	}
}

// echoRequestID answers the request's id in X-Request-Id.
func echoRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := middleware.GetReqID(r.Context()); id != "" {
			w.Header().Set(middleware.RequestIDHeader, id)
		}
		next.ServeHTTP(w, r)
	})
}
