package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/client"
	"github.com/herald-sched/herald/internal/heraldtest"
)

// faultyProxy forwards to h, except that fault may answer a request itself
// (or not at all) instead: it returns true when it did.
func faultyProxy(t *testing.T, h *heraldtest.Herald, fault func(n int, w http.ResponseWriter, r *http.Request, forward http.Handler) bool) string {
	t.Helper()
	target, err := url.Parse(h.Server.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fault(int(n.Add(1)), w, r, rp) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func job(name, url string) client.JobInput {
	return client.JobInput{Name: name, Tasks: []client.Task{{Request: &client.Request{Url: new(url)}}}}
}

func countJobs(t *testing.T, c *client.Client, name string) int {
	t.Helper()
	n := 0
	for _, err := range c.Jobs(t.Context(), &client.ListJobsParams{Name: new(name)}) {
		require.NoError(t, err)
		n++
	}
	return n
}

// A create whose answer is lost is sent again with the same Idempotency-Key,
// and the server answers it without creating a second job.
func TestCreateWhoseAnswerIsLostCreatesOnce(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true, Wrap: heraldtest.ValidateOpenAPI(t)})
	keys := make(chan string, 4)
	proxy := faultyProxy(t, h, func(n int, w http.ResponseWriter, r *http.Request, forward http.Handler) bool {
		if r.Method != http.MethodPost {
			return false
		}
		keys <- r.Header.Get("Idempotency-Key")
		if n > 1 {
			return false
		}
		// The job is created, but its answer never arrives.
		forward.ServeHTTP(httptest.NewRecorder(), r)
		conn, _, err := http.NewResponseController(w).Hijack()
		require.NoError(t, err)
		_ = conn.Close()
		return true
	})
	c, err := client.New(proxy, heraldtest.APIKey)
	require.NoError(t, err)

	created, err := c.CreateJob(t.Context(), job("lost-answer", "https://gw.example/hook"))
	require.NoError(t, err)
	require.Equal(t, "lost-answer", created.Name)
	first, second := <-keys, <-keys
	require.NotEmpty(t, first)
	require.Equal(t, first, second, "the retry carries the same key")
	require.Equal(t, 1, countJobs(t, c, "lost-answer"))
}

func TestAnswersBecomeProblems(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true})
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		call   func(c *client.Client) error
		want   client.Problem
	}{
		{
			name: "the server's problem",
			call: func(c *client.Client) error {
				_, err := c.CreateJob(context.Background(), job("bad", "ftp://gw.example/"))
				return err
			},
			want: client.Problem{Status: 422, Type: "urn:herald:problem:validation", Title: "Unprocessable Entity"},
		},
		{
			name: "a proxy's page",
			answer: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<html>bad gateway</html>"))
			},
			call: func(c *client.Client) error {
				_, err := c.GetJob(context.Background(), "x")
				return err
			},
			want: client.Problem{Status: 502, Type: "about:blank", Title: "Bad Gateway", Detail: "<html>bad gateway</html>"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proxy := faultyProxy(t, h, func(_ int, w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
				if tc.answer == nil {
					return false
				}
				tc.answer(w)
				return true
			})
			c, err := client.New(proxy, heraldtest.APIKey)
			require.NoError(t, err)
			err = tc.call(c)
			var p *client.Problem
			require.ErrorAs(t, err, &p)
			if tc.want.Detail == "" {
				require.NotEmpty(t, p.Detail)
				tc.want.Detail = p.Detail
				require.NotEmpty(t, p.Fields)
				require.Equal(t, "tasks[0].request.url", p.Fields[0].Field)
				tc.want.Fields = p.Fields
			}
			require.Equal(t, tc.want, *p)
			require.True(t, client.IsValidation(err) == (p.Status == 422))
		})
	}
}

// A 503 (the database is away; nothing was changed) is retried after its
// Retry-After.
func TestUnavailableIsRetried(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true})
	proxy := faultyProxy(t, h, func(n int, w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
		if n > 2 {
			return false
		}
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"type":"urn:herald:problem:database-unavailable","title":"Service Unavailable","status":503}`))
		return true
	})
	c, err := client.New(proxy, heraldtest.APIKey)
	require.NoError(t, err)
	created, err := c.CreateJob(t.Context(), job("after-outage", "https://gw.example/"))
	require.NoError(t, err)
	require.Equal(t, "after-outage", created.Name)

	c, err = client.New(proxy, heraldtest.APIKey, client.WithRetries(0))
	require.NoError(t, err)
	_, err = c.GetJob(t.Context(), created.Id.String())
	require.NoError(t, err, "the proxy's faults are used up")
}

// A server that cannot be reached is an error of its own, not a Problem,
// naming the URL, after a few quick retries.
func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	c, err := client.New("http://"+addr, "k")
	require.NoError(t, err)
	start := time.Now()
	_, err = c.GetJob(t.Context(), "x")
	require.Error(t, err)
	require.Less(t, time.Since(start), 3*time.Second)
	var p *client.Problem
	require.False(t, errors.As(err, &p))
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	require.Contains(t, err.Error(), addr)
}

func TestNewRefusesABadURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, url string }{
		{"no scheme", "localhost:8080"},
		{"another scheme", "ftp://localhost"},
		{"no host", "http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.New(tc.url, "")
			require.Error(t, err)
		})
	}
}

func TestDevicesIterateOverPages(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true, Wrap: heraldtest.ValidateOpenAPI(t)})
	c, err := client.New(h.Server.URL, heraldtest.APIKey)
	require.NoError(t, err)
	for _, name := range []string{"gw-1", "gw-2", "gw-3"} {
		d, err := c.CreateDevice(t.Context(), client.DeviceInput{Name: name, Labels: map[string]string{"site": "17"}})
		require.NoError(t, err)
		require.NotEmpty(t, d.Token)
	}
	var names []string
	for d, err := range c.Devices(t.Context(), &client.ListDevicesParams{Limit: new(2), Label: []string{"site=17"}}) {
		require.NoError(t, err)
		names = append(names, d.Name)
	}
	require.Equal(t, []string{"gw-3", "gw-2", "gw-1"}, names)
}
