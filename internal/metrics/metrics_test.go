package metrics_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/metrics"
)

// series lists every series of the registry as name{labels}.
func series(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	var out []string
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out = append(out, f.GetName()+"{"+strings.Join(labels, ",")+"}")
		}
	}
	return out
}

// An idle herald's scrape already has every series dashboards and alerts
// use, at zero.
func TestSeriesArePresentWhenIdle(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	metrics.New(reg)
	got := series(t, reg)
	for _, want := range []string{
		"herald_deliveries_total{outcome=succeeded}",
		"herald_deliveries_total{outcome=retrying}",
		"herald_deliveries_total{outcome=failed}",
		"herald_delivery_duration_seconds{outcome=failed}",
		"herald_runs_total{state=succeeded}",
		"herald_runs_total{state=failed}",
		"herald_runs_total{state=cancelled}",
		"herald_runs_total{state=skipped}",
		"herald_fire_lateness_seconds{}",
		"herald_deliveries_in_flight{}",
		"herald_placements_total{outcome=waiting}",
	} {
		require.Contains(t, got, want)
	}
}

// The API's requests are counted by route pattern, method and status
// class: labels that cannot grow with the traffic.
func TestHTTPRequestLabelsAreBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		route, method string
		status        int
		want          string
	}{
		{"a route", "/v1/jobs/{jobID}", "GET", 200, "herald_http_requests_total{method=GET,route=/v1/jobs/{jobID},status=2xx}"},
		{"no route matched", "", "GET", 404, "herald_http_requests_total{method=GET,route=unmatched,status=4xx}"},
		{"an unusual method", "/v1/jobs", "PROPFIND", 405, "herald_http_requests_total{method=other,route=/v1/jobs,status=4xx}"},
		{"a server error", "/readyz", "GET", 503, "herald_http_requests_total{method=GET,route=/readyz,status=5xx}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewPedanticRegistry()
			m := metrics.New(reg)
			m.HTTPRequest(tc.route, tc.method, tc.status, 30*time.Millisecond)
			var http []string
			for _, s := range series(t, reg) {
				if strings.HasPrefix(s, "herald_http_requests_total{") {
					http = append(http, s)
				}
			}
			require.Equal(t, []string{tc.want}, http)
		})
	}
}

func TestBuildInfo(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	metrics.RegisterBuildInfo(reg, "", "0123abc")
	require.Equal(t, []string{"herald_build_info{goversion=" + runtime.Version() + ",revision=0123abc,version=devel}"}, series(t, reg))
}
