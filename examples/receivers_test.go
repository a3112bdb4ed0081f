package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/client"
	"github.com/herald-sched/herald/internal/heraldtest"
)

// receiverEvent is a line a receiver prints.
type receiverEvent struct {
	Event     string          `json:"event"`
	Port      int             `json:"port"`
	WebhookID string          `json:"webhook_id"`
	Task      string          `json:"task"`
	Body      json.RawMessage `json:"body"`
	Reason    string          `json:"reason"`
}

// receiverProcess is a receiver example running as a process of its own.
type receiverProcess struct {
	url    string
	events chan receiverEvent
}

// startReceiver runs cmd (a receiver example, given the job's secret in its
// environment) and waits for it to listen.
func startReceiver(t *testing.T, cmd *exec.Cmd, secret string) *receiverProcess {
	t.Helper()
	cmd.Env = append(os.Environ(), "HERALD_WEBHOOK_SECRET="+secret, "PORT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("receiver's stderr:\n%s", stderr.String())
		}
	})
	events := make(chan receiverEvent, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e receiverEvent
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				events <- e
			}
		}
		close(events)
	}()
	first := next(t, events)
	require.Equal(t, "listening", first.Event)
	return &receiverProcess{url: "http://127.0.0.1:" + strconv.Itoa(first.Port), events: events}
}

func next(t *testing.T, events <-chan receiverEvent) receiverEvent {
	t.Helper()
	select {
	case e, ok := <-events:
		require.True(t, ok, "the receiver exited")
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no line from the receiver within 30s")
		return receiverEvent{}
	}
}

// recordingProxy forwards to the receiver once it is set, keeping a copy of
// the last request herald sent.
type recordingProxy struct {
	*httptest.Server
	target atomic.Pointer[url.URL]
	mu     sync.Mutex
	last   *http.Request
	body   []byte
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	p := &recordingProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.last, p.body = r.Clone(context.Background()), body
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		httputil.NewSingleHostReverseProxy(p.target.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// resend sends the last request again to url, with body instead of its own.
func (p *recordingProxy) resend(t *testing.T, url string, body []byte) int {
	t.Helper()
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	require.NotNil(t, last, "herald sent nothing")
	req, err := http.NewRequest(last.Method, url+last.URL.Path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = last.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestReceiversVerifyHeraldsSignatures runs each receiver example as a
// process behind herald: a webhook herald signed is received once; the same
// request again is a duplicate (same webhook-id), answered 200; the same
// headers with another body are rejected with 401.
func TestReceiversVerifyHeraldsSignatures(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	c, err := client.New(h.Server.URL, heraldtest.APIKey)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		// command builds the receiver in dir and returns what runs it, or
		// skips the test saying why it cannot.
		command func(t *testing.T, dir string) *exec.Cmd
	}{
		{name: "go", command: goReceiver},
		{name: "node", command: nodeReceiver},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := tc.command(t, t.TempDir())
			proxy := newRecordingProxy(t)
			job, err := c.CreateJob(t.Context(), client.JobInput{
				Name: "receiver-" + tc.name,
				Tasks: []client.Task{{
					Id:      new("notify"),
					Request: &client.Request{Url: new(proxy.URL + "/hook"), Body: new(any(map[string]any{"hello": "device"}))},
				}},
			})
			require.NoError(t, err)
			rc := startReceiver(t, cmd, job.Secret)
			target, err := url.Parse(rc.url)
			require.NoError(t, err)
			proxy.target.Store(target)

			run, err := c.TriggerRun(t.Context(), job.Id.String())
			require.NoError(t, err)
			var last client.Run
			for r, err := range c.WatchRun(t.Context(), run.Id.String(), 50*time.Millisecond) {
				require.NoError(t, err)
				last = r
			}
			require.Equal(t, client.RunStateSucceeded, last.State)
			require.Len(t, last.Tasks, 1)

			got := next(t, rc.events)
			require.Equal(t, "received", got.Event, "reason: %s", got.Reason)
			require.Equal(t, last.Tasks[0].WebhookId, got.WebhookID)
			require.Equal(t, "notify", got.Task)
			require.JSONEq(t, `{"hello": "device"}`, string(got.Body))

			proxy.mu.Lock()
			body := proxy.body
			proxy.mu.Unlock()
			require.Equal(t, http.StatusOK, proxy.resend(t, rc.url, body))
			dup := next(t, rc.events)
			require.Equal(t, "duplicate", dup.Event)
			require.Equal(t, got.WebhookID, dup.WebhookID)

			require.Equal(t, http.StatusUnauthorized, proxy.resend(t, rc.url, []byte(`{"hello": "forged"}`)))
			rejected := next(t, rc.events)
			require.Equal(t, "rejected", rejected.Event)
			require.NotEmpty(t, rejected.Reason)
		})
	}
}

// goReceiver builds examples/receiver-go.
func goReceiver(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	bin := filepath.Join(dir, "receiver-go")
	out, err := exec.Command("go", "build", "-o", bin, "./receiver-go").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return exec.Command(bin, "--addr", "127.0.0.1:0")
}

// nodeReceiver installs examples/receiver-node's dependencies (the
// standardwebhooks package, at the version and integrity its
// package-lock.json pins) into dir with npm ci, and runs it with node.
// Without node or npm the test is skipped, saying so.
func nodeReceiver(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Node receiver example is not run")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the Node receiver example's dependency cannot be installed")
	}
	for _, f := range []string{"receiver.js", "package.json", "package-lock.json"} {
		raw, err := os.ReadFile(filepath.Join("receiver-node", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), raw, 0o644))
	}
	install := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	install.Dir = dir
	out, err := install.CombinedOutput()
	require.NoError(t, err, "npm ci: %s", out)
	cmd := exec.Command(node, "receiver.js")
	cmd.Dir = dir
	return cmd
}
