package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The API's own requests, by route: labels are bounded by construction (the
// router's route pattern, never the path; one of the usual methods or
// "other"; the status's class).

// UnmatchedRoute is the route of a request no route matched.
const UnmatchedRoute = "unmatched"

// httpMethods are the methods counted by name; others count as "other".
var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true,
}

func newHTTPInstruments() (*prometheus.CounterVec, *prometheus.HistogramVec) {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_http_requests_total",
			Help: "HTTP requests herald served (API, pages, health, metrics), by route pattern (\"/v1/jobs/{jobID}\"; \"unmatched\" when none matched), method and status class (2xx, 3xx, 4xx, 5xx).",
		}, []string{"route", "method", "status"}),
		prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_http_request_duration_seconds",
			Help:    "Duration of the HTTP requests herald served, by route pattern and method (long-polls and live page streams last as long as they wait).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "method"})
}

// HTTPRequest counts a request served: its route pattern ("" when no
// route matched), method, status and duration.
func (m *Metrics) HTTPRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = UnmatchedRoute
	}
	if !httpMethods[method] {
		method = "other"
	}
	m.httpRequests.WithLabelValues(route, method, statusClass(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// statusClass is "2xx" for 200 to 299, and so on; a status outside 100 to
// 599 is "other".
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}
