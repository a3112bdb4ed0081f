// Package metrics is herald's Prometheus instrumentation: counters and
// histograms updated on the delivery path, and gauges read from the database
// when /metrics is scraped. Every name starts with herald_.
package metrics

import (
	"time"

	"github.com/herald-sched/herald/internal/state"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the instruments updated as herald works. A nil *Metrics is
// valid and records nothing.
type Metrics struct {
	fireLateness     prometheus.Histogram
	deliveryDuration *prometheus.HistogramVec
	deliveries       *prometheus.CounterVec
	runs             *prometheus.CounterVec
	inFlight         prometheus.Gauge
	clockOffset      prometheus.Gauge
	reclaimed        prometheus.Counter
	recordFailures   prometheus.Counter
	placements       *prometheus.CounterVec
	httpRequests     *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
}

// deliveryOutcomes are the outcomes deliveries are counted by, each always
// present.
var deliveryOutcomes = []state.Task{state.TaskSucceeded, state.TaskRetrying, state.TaskFailed}

// New creates the instruments and registers them with reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		fireLateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_fire_lateness_seconds",
			Help:    "Seconds from a tick's nominal fire time to its first request being sent.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10, 60},
		}),
		deliveryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_delivery_duration_seconds",
			Help:    "Duration of delivery attempts (one HTTP request each), by outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_total",
			Help: "Delivery attempts by outcome: succeeded, retrying, failed.",
		}, []string{"outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_runs_total",
			Help: "Runs that ended, by final state: succeeded, failed, cancelled, skipped.",
		}, []string{"state"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_deliveries_in_flight",
			Help: "Delivery requests on the wire in this process.",
		}),
	}
	m.clockOffset = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_clock_offset_seconds",
		Help: "PostgreSQL's clock minus this process's, measured at each heartbeat (round trip compensated, smoothed).",
	})
	m.reclaimed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_reclaimed_total",
		Help: "Deliveries this process put back in the queue from replicas declared dead.",
	})
	m.recordFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_record_failures_total",
		Help: "Attempt outcomes that could not be recorded as they were (the task failed with the recording error instead).",
	})
	m.placements = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_placements_total",
		Help: "Placements of attempts on devices by outcome: placed, waiting (no device eligible: the task waits), expired (no device within valid_for), replaced (a pull device went offline before taking its task: placed again).",
	}, []string{"outcome"})
	for _, o := range []string{"placed", "waiting", "expired", "replaced"} {
		m.placements.WithLabelValues(o)
	}
	// Every series present from the start, at zero, so that dashboards and
	// rate() see an idle herald rather than no data.
	for _, o := range deliveryOutcomes {
		m.deliveries.WithLabelValues(string(o))
		m.deliveryDuration.WithLabelValues(string(o))
	}
	for _, s := range state.Runs() {
		if s.Final() {
			m.runs.WithLabelValues(string(s))
		}
	}
	m.httpRequests, m.httpDuration = newHTTPInstruments()
	reg.MustRegister(m.fireLateness, m.deliveryDuration, m.deliveries, m.runs, m.inFlight, m.clockOffset, m.reclaimed, m.recordFailures, m.placements,
		m.httpRequests, m.httpDuration)
	return m
}

// FireLateness records how late a tick's first request was sent.
func (m *Metrics) FireLateness(d time.Duration) {
	if m != nil {
		m.fireLateness.Observe(d.Seconds())
	}
}

// Delivered records one attempt, by what it made of its task run
// (succeeded, retrying, failed).
func (m *Metrics) Delivered(outcome state.Task, d time.Duration) {
	if m != nil {
		m.deliveries.WithLabelValues(string(outcome)).Inc()
		m.deliveryDuration.WithLabelValues(string(outcome)).Observe(d.Seconds())
	}
}

// RunEnded records a run's final state.
func (m *Metrics) RunEnded(s state.Run) {
	if m != nil {
		m.runs.WithLabelValues(string(s)).Inc()
	}
}

// InFlight moves the in-flight gauge by delta.
func (m *Metrics) InFlight(delta float64) {
	if m != nil {
		m.inFlight.Add(delta)
	}
}

// ClockOffset sets this process's measured clock offset from PostgreSQL.
func (m *Metrics) ClockOffset(d time.Duration) {
	if m != nil {
		m.clockOffset.Set(d.Seconds())
	}
}

// Reclaimed counts deliveries put back from a dead replica.
func (m *Metrics) Reclaimed(n int) {
	if m != nil {
		m.reclaimed.Add(float64(n))
	}
}

// RecordFailed counts an outcome that could not be recorded as it was.
func (m *Metrics) RecordFailed() {
	if m != nil {
		m.recordFailures.Inc()
	}
}

// Placed counts a placement by outcome: placed, waiting, expired, replaced.
func (m *Metrics) Placed(outcome string) {
	if m != nil {
		m.placements.WithLabelValues(outcome).Inc()
	}
}
