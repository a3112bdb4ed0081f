package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
)

const testKey = "process-test-key"

// process is a `herald serve` child process.
type process struct {
	cmd     *exec.Cmd
	url     string
	logs    *syncBuffer
	exited  chan struct{} // closed when the process has exited
	waitErr error         // its exit error, once exited is closed
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// baseEnv is this process's environment without herald's, OpenTelemetry's
// and the database's variables, so that each child gets exactly what a test
// gives it.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HERALD_") || strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "TEST_DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startServe runs `herald serve` with env added and waits until it listens.
func startServe(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(heraldBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(append(baseEnv(), "HERALD_API_KEY="+testKey, "HERALD_ALLOWED_TARGET_NETWORKS=127.0.0.0/8"), env...)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, logs: logs, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := listeningAddr(sc.Text()); ok {
				addr <- a
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.waitErr = cmd.Wait() // after the last read from stdout, as os/exec requires
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("herald logs:\n%s", logs.String())
		}
	})
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.exited:
		t.Fatalf("herald exited before listening: %v\n%s", p.waitErr, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("herald did not listen within 60s\n%s", logs.String())
	}
	return p
}

// listeningAddr reads the address from the line `herald serve` prints on
// stdout once it listens: "herald listening on ADDR", or, with the JSON log
// format, a JSON record with that message and the address as addr.
func listeningAddr(line string) (string, bool) {
	const prefix = "herald listening on "
	if a, ok := strings.CutPrefix(line, prefix); ok {
		return a, true
	}
	var rec struct{ Msg, Addr string }
	if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Msg, prefix) && rec.Addr != "" {
		return rec.Addr, true
	}
	return "", false
}

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (p *process) stop(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(60 * time.Second):
		t.Fatalf("herald did not stop within 60s\n%s", p.logs.String())
		return nil
	}
}

func (p *process) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, p.url+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

func TestTwoReplicasDeliverEachRunOnce(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	a := startServe(t, []string{"DATABASE_URL=" + dbURL})
	b := startServe(t, []string{"DATABASE_URL=" + dbURL})
	rc := heraldtest.NewReceiver(t, nil)

	const n = 40
	fireAt := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	for i := range n {
		p := a
		if i%2 == 1 {
			p = b
		}
		job := map[string]any{
			"name":     fmt.Sprintf("replica-%d", i),
			"schedule": map[string]any{"at": fireAt},
			"tasks":    []any{map[string]any{"request": map[string]any{"url": rc.URL}}},
		}
		if i%4 == 3 {
			delete(job, "schedule") // and some triggered by hand
		}
		code, body := p.call(t, http.MethodPost, "/v1/jobs", job)
		require.Equal(t, http.StatusCreated, code, "body: %s", body)
		if i%4 == 3 {
			var j struct{ ID string }
			require.NoError(t, json.Unmarshal(body, &j))
			code, body = p.call(t, http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil)
			require.Equal(t, http.StatusAccepted, code, "body: %s", body)
		}
	}
	heraldtest.Eventually(t, 30*time.Second, func() bool {
		code, body := a.call(t, http.MethodGet, "/v1/runs?state=succeeded&limit=500", nil)
		require.Equal(t, http.StatusOK, code)
		var page struct{ Data []json.RawMessage }
		require.NoError(t, json.Unmarshal(body, &page))
		return len(page.Data) == n
	}, "runs did not all succeed")

	perID := map[string]int{}
	for _, r := range rc.Requests() {
		perID[r.Header.Get("Webhook-Id")]++
	}
	require.Len(t, perID, n, "distinct webhooks")
	for id, c := range perID {
		require.Equal(t, 1, c, "webhook %s delivered %d times", id, c)
	}
	require.Equal(t, n, rc.Count())
}

func TestServeUsesEmbeddedPostgresByDefault(t *testing.T) {
	t.Parallel()
	// Not t.TempDir: its parent is private, and as root the embedded server
	// runs as the postgres user, who must reach the data directory.
	dataDir, err := os.MkdirTemp("", "herald-embedded-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dataDir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	for start := 1; start <= 2; start++ { // the second start reuses the data directory
		p := startServe(t, nil, "--data-dir", dataDir)
		heraldtest.Eventually(t, 30*time.Second, func() bool {
			resp, err := http.Get(p.url + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, "start %d: /readyz never answered 200", start)
		code, body := p.call(t, http.MethodGet, "/v1/jobs", nil)
		require.Equal(t, http.StatusOK, code, "body: %s", body)
		if start == 1 {
			// A second herald in the same data directory is refused, saying
			// why, instead of joining the first one's database.
			r := runServe(t, nil, "--addr", "127.0.0.1:0", "--data-dir", dataDir)
			require.NotEqual(t, 0, r.code, "a second herald in the data directory started\n%s\n%s", r.stdout, r.stderr)
			require.Regexp(t, `herald: another herald \(pid \d+\) runs the embedded PostgreSQL of --data-dir `+regexp.QuoteMeta(dataDir), r.stderr)
			require.NotContains(t, r.stderr, "migrat")
			require.NotContains(t, r.stdout, "herald listening")
		}
		require.NoError(t, p.stop(t), "start %d: exit status\n%s", start, p.logs.String())
	}
}

// runServe runs `herald serve` to its end (at most 60 s) with env added.
func runServe(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	return runCLIEnv(t, append([]string{"HERALD_API_KEY=" + testKey}, env...), "", append([]string{"serve"}, args...)...)
}

// With its port taken, herald fails at once, saying so, before it touches
// a database: no data directory, no PostgreSQL, no migration, no River.
func TestTakenPortFailsBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	dataDir := filepath.Join(t.TempDir(), "never")
	r := runServe(t, nil, "--addr", ln.Addr().String(), "--data-dir", dataDir)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "address already in use")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Len(t, lines, 1, "one line, the cause: %s", r.stderr)
	require.NoDirExists(t, dataDir, "the embedded database was not started")
}

func TestShutdownLetsInFlightDeliveriesFinish(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	p := startServe(t, []string{"DATABASE_URL=" + dbURL})
	arrived := make(chan struct{})
	var once sync.Once
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		once.Do(func() { close(arrived) })
		time.Sleep(time.Second) // a slow device: the delivery is in flight during shutdown
		w.WriteHeader(http.StatusOK)
	})
	code, body := p.call(t, http.MethodPost, "/v1/jobs", map[string]any{
		"name":     "slow",
		"schedule": map[string]any{"delay": "0s"},
		"tasks":    []any{map[string]any{"request": map[string]any{"url": rc.URL}}},
	})
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatalf("delivery never arrived\n%s", p.logs.String())
	}
	require.NoError(t, p.stop(t), "exit status")

	// The delivery finished and was recorded before the process exited.
	pool := dbtest.Connect(t, dbURL)
	var state string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT state FROM runs").Scan(&state))
	require.Equal(t, "succeeded", state)
	require.Equal(t, 1, rc.Count())
}

// With an OTLP endpoint in the standard variable, serve exports its spans
// there, and the webhook carries the trace context of its request.
func TestServeExportsTracesOverOTLP(t *testing.T) {
	t.Parallel()
	collector := heraldtest.NewReceiver(t, nil)
	rc := heraldtest.NewReceiver(t, nil)
	p := startServe(t, []string{
		"DATABASE_URL=" + dbtest.NewURL(t),
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL,
		"OTEL_SERVICE_NAME=herald-under-test",
		"OTEL_BSP_SCHEDULE_DELAY=100",
	})
	code, body := p.call(t, http.MethodPost, "/v1/jobs", map[string]any{
		"name":  "traced",
		"tasks": []any{map[string]any{"request": map[string]any{"url": rc.URL}}},
	})
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	var j struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &j))
	code, body = p.call(t, http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, code, "body: %s", body)

	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() == 1 }, "no webhook")
	require.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$`, rc.Requests()[0].Header.Get("Traceparent"))
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		for _, r := range collector.Requests() {
			if r.Method == http.MethodPost && r.Path == "/v1/traces" && bytes.Contains(r.Body, []byte("herald-under-test")) {
				return true
			}
		}
		return false
	}, "no spans exported to the collector")
}

// River's UI is served at /riverui behind the API key: a browser is asked
// for it (HTTP Basic, the key as password), its API answers with it, and a
// cross-site request is refused.
func TestRiverUIIsMountedBehindTheKey(t *testing.T) {
	t.Parallel()
	p := startServe(t, []string{"DATABASE_URL=" + dbtest.NewURL(t)})
	get := func(path string, auth func(*http.Request)) *http.Response {
		req, err := http.NewRequest(http.MethodGet, p.url+path, nil)
		require.NoError(t, err)
		if auth != nil {
			auth(req)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	basic := func(key string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth("operator", key) }
	}

	resp := get("/riverui/", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
	require.Equal(t, http.StatusUnauthorized, get("/riverui/", basic("wrong")).StatusCode)

	resp = get("/riverui/", basic(testKey))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(page), "<html")

	resp = get("/riverui/api/queues", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testKey) })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "herald_deliver", "the UI sees herald's queue")

	req, err := http.NewRequest(http.MethodPost, p.url+"/riverui/api/jobs/cancel", strings.NewReader(`{"job_ids":["1"]}`))
	require.NoError(t, err)
	req.SetBasicAuth("operator", testKey)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a cross-site request is refused")
}

// With --log-format json everything herald writes is JSON, stdout's line
// included, durations are strings, and River's routine lines stay out of
// the info log; a failure is a JSON record too.
func TestJSONLogsEverywhere(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	p := startServe(t, []string{"DATABASE_URL=" + dbURL, "HERALD_LOG_FORMAT=json"})
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	code, body := p.call(t, http.MethodPost, "/v1/jobs", map[string]any{
		"name":     "failing",
		"schedule": map[string]any{"delay": "0s"},
		"tasks":    []any{map[string]any{"request": map[string]any{"url": rc.URL}, "retry": map[string]any{"max_attempts": 3, "initial_interval": "100ms"}}},
	})
	require.Equal(t, http.StatusCreated, code, "body: %s", body)
	heraldtest.Eventually(t, 20*time.Second, func() bool { return rc.Count() == 3 }, "three attempts")
	time.Sleep(6 * time.Second) // a producer's job counts are logged every 5 s
	require.NoError(t, p.stop(t))

	sawDuration := false
	for line := range strings.SplitSeq(strings.TrimSpace(p.logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "not JSON: %s", line)
		msg, _ := rec["msg"].(string)
		require.NotContains(t, msg, "Producer job counts", "River's routine line at info")
		require.NotContains(t, msg, "Job errored; retrying", "River's routine line at info")
		for _, key := range []string{"took", "duration", "timeout", "heartbeat_interval"} {
			if v, ok := rec[key]; ok {
				require.IsType(t, "", v, "%s is not a string: %s", key, line)
				sawDuration = true
			}
		}
	}
	require.True(t, sawDuration, "no duration logged:\n%s", p.logs.String())

	// A failure, as JSON: the port is taken.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	r := runServe(t, []string{"DATABASE_URL=" + dbURL, "HERALD_LOG_FORMAT=json"}, "--addr", ln.Addr().String())
	require.Equal(t, 1, r.code)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Len(t, lines, 1, "%s", r.stderr)
	var rec struct{ Level, Msg, Error string }
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec), "not JSON: %s", lines[0])
	require.Equal(t, "ERROR", rec.Level)
	require.Equal(t, "herald serve failed", rec.Msg)
	require.Contains(t, rec.Error, "address already in use")
}
