package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
)

// freeAddr is a loopback address nobody listens on (bound, then freed).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServeMetrics(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "herald_up 1\n") })
	logger := slog.New(slog.DiscardHandler)

	t.Run("on the main listener by default", func(t *testing.T) {
		t.Parallel()
		forRouter, stop, err := serveMetrics("", h, logger)
		require.NoError(t, err)
		defer stop()
		require.NotNil(t, forRouter, "got nil, want the handler for the router")
	})
	t.Run("on its own listener", func(t *testing.T) {
		t.Parallel()
		addr := freeAddr(t)
		forRouter, stop, err := serveMetrics(addr, h, logger)
		require.NoError(t, err)
		defer stop()
		require.Nil(t, forRouter, "got a handler, want none on the main listener")
		code, body := get(t, "http://"+addr+"/metrics")
		require.Equal(t, http.StatusOK, code, "got %v, want 200", code)
		require.Equal(t, "herald_up 1\n", body)
		code, _ = get(t, "http://"+addr+"/v1/jobs")
		require.Equal(t, http.StatusNotFound, code, "got %v, want 404: only /metrics is served there", code)
	})
	t.Run("address in use", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		_, _, err = serveMetrics(l.Addr().String(), h, logger)
		require.ErrorContains(t, err, "--metrics-addr", "got %v, want an error naming the flag", err)
	})
}

// With --metrics-addr, /metrics leaves the main listener for its own.
func TestServeMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	p := startServe(t, []string{"DATABASE_URL=" + dbtest.NewURL(t), "HERALD_METRICS_ADDR=" + metricsAddr})

	code, body := get(t, "http://"+metricsAddr+"/metrics")
	require.Equal(t, http.StatusOK, code, "got %v, want 200", code)
	require.True(t, strings.Contains(body, "herald_deliveries_in_flight"), "got %.200s, want herald's metrics", body)
	code, _ = get(t, p.url+"/metrics")
	require.Equal(t, http.StatusNotFound, code, "got %v, want 404 on the main listener", code)
}

// An idle herald's first scrape has every series a dashboard reads, its
// build, and its own requests counted by route.
func TestIdleScrapeHasEverySeries(t *testing.T) {
	t.Parallel()
	p := startServe(t, []string{"DATABASE_URL=" + dbtest.NewURL(t)})
	code, _ := p.call(t, http.MethodGet, "/v1/jobs", nil)
	require.Equal(t, http.StatusOK, code)
	code, body := get(t, p.url+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`herald_build_info{goversion="go`,
		`herald_queue_backlog{queue="herald_deliver"} 0`,
		`herald_oldest_ready_age_seconds{queue="herald_deliver"} 0`,
		`herald_deliveries_total{outcome="failed"} 0`,
		`herald_runs_total{state="succeeded"} 0`,
		`herald_http_requests_total{method="GET",route="/v1/jobs",status="2xx"} 1`,
		`herald_http_request_duration_seconds_count{method="GET",route="/v1/jobs"} 1`,
	} {
		require.Contains(t, body, want)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"version"}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(heraldBin, args...).Output()
			require.NoError(t, err)
			require.Regexp(t, `^herald \S+ \(revision \S+, go[0-9.]+\S*, \w+/\w+\)\n$`, string(out))
		})
	}
}
