package dispatch_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
)

// statusHandler answers with the status in the "status" query parameter and
// a short body.
func statusHandler(w http.ResponseWriter, r *http.Request) {
	status, err := strconv.Atoi(r.URL.Query().Get("status"))
	if err != nil {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "status "+strconv.Itoa(status))
}

func TestDoStatusClasses(t *testing.T) {
	t.Parallel()
	srv := newServer(t, statusHandler)
	c := loopbackClient(t)

	tests := []struct {
		status int
		want   dispatch.Outcome
	}{
		{200, dispatch.Success},
		{201, dispatch.Success},
		{202, dispatch.Success},
		{204, dispatch.Success},
		{299, dispatch.Success},
		{300, dispatch.Permanent},
		{301, dispatch.Permanent},
		{304, dispatch.Permanent},
		{307, dispatch.Permanent},
		{400, dispatch.Permanent},
		{401, dispatch.Permanent},
		{403, dispatch.Permanent},
		{404, dispatch.Permanent},
		{409, dispatch.Permanent},
		{410, dispatch.Permanent},
		{413, dispatch.Permanent},
		{422, dispatch.Permanent},
		{408, dispatch.Retryable},
		{425, dispatch.Retryable},
		{429, dispatch.Retryable},
		{500, dispatch.Retryable},
		{502, dispatch.Retryable},
		{503, dispatch.Retryable},
		{504, dispatch.Retryable},
		{599, dispatch.Retryable},
		{600, dispatch.Permanent},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			res := c.Do(t.Context(), dispatch.Request{URL: fmt.Sprintf("%s/?status=%d", srv.URL, tt.status)})
			require.NoError(t, res.Err, "got %v, want nil", res.Err)
			require.Equal(t, tt.status, res.StatusCode, "got %v, want %v", res.StatusCode, tt.status)
			require.Equal(t, tt.want, res.Outcome, "got %v, want %v", res.Outcome, tt.want)
			require.Positive(t, res.Duration, "got %v, want > 0", res.Duration)
			if tt.status != http.StatusNoContent && tt.status != http.StatusNotModified {
				want := "status " + strconv.Itoa(tt.status)
				require.Equal(t, want, string(res.Body), "got %v, want %v", string(res.Body), want)
			}
		})
	}
}

// seen is what a receiver got.
type seen struct {
	method string
	header http.Header
	body   []byte
}

func TestDoSendsRequest(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		cfg       dispatch.Config
		req       dispatch.Request
		wantSeen  seen
		wantAbsnt []string // headers that must not be sent
	}{
		{
			name: "body gets default content type",
			req: dispatch.Request{
				Method: http.MethodPost,
				Header: http.Header{"Webhook-Id": {"msg_1"}, "Herald-Attempt": {"2"}, "Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
				Body:   []byte(`{"a":1}`),
			},
			wantSeen: seen{method: "POST", body: []byte(`{"a":1}`), header: http.Header{
				"Webhook-Id": {"msg_1"}, "Herald-Attempt": {"2"}, "Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
				"User-Agent": {"herald/1"}, "Content-Type": {"application/json"},
			}},
		},
		{
			name: "caller content type is kept",
			req: dispatch.Request{
				Method: http.MethodPut,
				Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
				Body:   []byte("hello"),
			},
			wantSeen: seen{method: "PUT", body: []byte("hello"), header: http.Header{
				"Content-Type": {"text/plain; charset=utf-8"}, "User-Agent": {"herald/1"},
			}},
		},
		{
			name:      "no body, no content type",
			req:       dispatch.Request{Method: http.MethodGet},
			wantSeen:  seen{method: "GET", body: []byte{}, header: http.Header{"User-Agent": {"herald/1"}}},
			wantAbsnt: []string{"Content-Type"},
		},
		{
			name:     "method defaults to POST",
			req:      dispatch.Request{Body: []byte("{}")},
			wantSeen: seen{method: "POST", body: []byte("{}"), header: http.Header{"Content-Type": {"application/json"}}},
		},
		{
			name:     "configured user agent replaces the caller's",
			cfg:      dispatch.Config{UserAgent: "herald-test/9"},
			req:      dispatch.Request{Header: http.Header{"User-Agent": {"curl/8"}}},
			wantSeen: seen{method: "POST", body: []byte{}, header: http.Header{"User-Agent": {"herald-test/9"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan seen, 1)
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got <- seen{method: r.Method, header: r.Header.Clone(), body: body}
			})
			tt.cfg.AllowedNetworks = loopback
			c := newClient(t, tt.cfg)

			tt.req.URL = srv.URL + "/hook"
			callerHeader := tt.req.Header.Clone()
			res := c.Do(t.Context(), tt.req)
			require.NoError(t, res.Err, "got %v, want nil", res.Err)
			require.Equal(t, dispatch.Success, res.Outcome, "got %v, want %v", res.Outcome, dispatch.Success)
			require.Equal(t, callerHeader, tt.req.Header, "caller's header modified: got %v, want %v", tt.req.Header, callerHeader)

			s := <-got
			require.Equal(t, tt.wantSeen.method, s.method, "got %v, want %v", s.method, tt.wantSeen.method)
			require.Equal(t, tt.wantSeen.body, s.body, "got %q, want %q", s.body, tt.wantSeen.body)
			for k, want := range tt.wantSeen.header {
				require.Equal(t, want, s.header[k], "header %s: got %v, want %v", k, s.header[k], want)
			}
			for _, k := range tt.wantAbsnt {
				require.NotContains(t, s.header, k, "got header %s=%v, want none", k, s.header[k])
			}
		})
	}
}

func TestDoRetryAfter(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch v := r.URL.Query().Get("retry_after"); v {
		case "":
		case "date-in-90s":
			w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		default:
			w.Header().Set("Retry-After", v)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := loopbackClient(t)

	tests := []struct {
		name     string
		param    string
		min, max time.Duration
	}{
		{name: "absent", param: "", min: 0, max: 0},
		{name: "delta seconds", param: "120", min: 120 * time.Second, max: 120 * time.Second},
		{name: "zero seconds", param: "0", min: 0, max: 0},
		{name: "http date", param: "date-in-90s", min: 85 * time.Second, max: 90 * time.Second},
		{name: "past http date", param: "Sun, 06 Nov 1994 08:49:37 GMT", min: 0, max: 0},
		{name: "capped at one hour", param: "86400", min: time.Hour, max: time.Hour},
		{name: "invalid", param: "soon", min: 0, max: 0},
		{name: "negative", param: "-5", min: 0, max: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := srv.URL + "/?retry_after=" + strings.ReplaceAll(tt.param, " ", "%20")
			res := c.Do(t.Context(), dispatch.Request{URL: u})
			require.NoError(t, res.Err, "got %v, want nil", res.Err)
			require.Equal(t, dispatch.Retryable, res.Outcome, "got %v, want %v", res.Outcome, dispatch.Retryable)
			require.True(t, res.RetryAfter >= tt.min && res.RetryAfter <= tt.max,
				"got %v, want between %v and %v", res.RetryAfter, tt.min, tt.max)
		})
	}
}

func TestDoTimeout(t *testing.T) {
	t.Parallel()

	const timeout = 150 * time.Millisecond
	tests := []struct {
		name       string
		handler    func(w http.ResponseWriter, hang func())
		wantStatus int
		wantOut    dispatch.Outcome
	}{
		{
			name:    "no response",
			handler: func(_ http.ResponseWriter, hang func()) { hang() },
			wantOut: dispatch.Retryable,
		},
		{
			name: "headers then stalled body",
			handler: func(w http.ResponseWriter, hang func()) {
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				hang()
			},
			// The receiver answered 2xx: the outcome follows the status,
			// and Err tells that the body could not be read.
			wantStatus: http.StatusOK,
			wantOut:    dispatch.Success,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				tt.handler(w, func() {
					select {
					case <-r.Context().Done():
					case <-release:
					}
				})
			})
			t.Cleanup(func() { close(release) }) // Runs before srv.Close.
			c := loopbackClient(t)

			res := c.Do(t.Context(), dispatch.Request{URL: srv.URL, Timeout: timeout})
			require.Equal(t, tt.wantOut, res.Outcome, "got %v, want %v", res.Outcome, tt.wantOut)
			require.Equal(t, tt.wantStatus, res.StatusCode, "got %v, want %v", res.StatusCode, tt.wantStatus)
			require.ErrorIs(t, res.Err, context.DeadlineExceeded, "got %v, want %v", res.Err, context.DeadlineExceeded)
			require.GreaterOrEqual(t, res.Duration, timeout, "got %v, want >= %v", res.Duration, timeout)
			require.Less(t, res.Duration, timeout+5*time.Second, "got %v, want < %v", res.Duration, timeout+5*time.Second)
		})
	}
}

func TestDoCallerCancellation(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := newServer(t, func(_ http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	c := loopbackClient(t)

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	res := c.Do(ctx, dispatch.Request{URL: srv.URL, Timeout: time.Minute})
	require.Equal(t, dispatch.Retryable, res.Outcome, "got %v, want %v", res.Outcome, dispatch.Retryable)
	require.ErrorIs(t, res.Err, context.Canceled, "got %v, want %v", res.Err, context.Canceled)
	require.Zero(t, res.StatusCode, "got %v, want 0", res.StatusCode)
}

func TestDoBodyCapture(t *testing.T) {
	t.Parallel()
	// The handler sends n bytes; with chunked=1 it flushes first, so the
	// length is not announced.
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") == "1" {
			w.(http.Flusher).Flush()
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		_, _ = w.Write(pattern(n))
	})

	tests := []struct {
		name          string
		maxBytes      int
		n             int
		wantLen       int
		wantTruncated bool
	}{
		{name: "empty", maxBytes: 64, n: 0, wantLen: 0},
		{name: "shorter than cap", maxBytes: 64, n: 10, wantLen: 10},
		{name: "one below cap", maxBytes: 64, n: 63, wantLen: 63},
		{name: "exactly cap", maxBytes: 64, n: 64, wantLen: 64},
		{name: "one beyond cap", maxBytes: 64, n: 65, wantLen: 64, wantTruncated: true},
		{name: "far beyond cap", maxBytes: 64, n: 100_000, wantLen: 64, wantTruncated: true},
		{name: "default cap exactly", n: 4096, wantLen: 4096},
		{name: "default cap exceeded", n: 4097, wantLen: 4096, wantTruncated: true},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/chunked=%t", tt.name, chunked), func(t *testing.T) {
				t.Parallel()
				c := newClient(t, dispatch.Config{AllowedNetworks: loopback, MaxResponseBytes: tt.maxBytes})
				u := fmt.Sprintf("%s/?n=%d&chunked=%d", srv.URL, tt.n, map[bool]int{false: 0, true: 1}[chunked])
				res := c.Do(t.Context(), dispatch.Request{URL: u})
				require.NoError(t, res.Err, "got %v, want nil", res.Err)
				require.Len(t, res.Body, tt.wantLen, "got %v bytes, want %v", len(res.Body), tt.wantLen)
				require.True(t, bytes.Equal(pattern(tt.wantLen), res.Body), "got body %q, want a prefix of the sent body", res.Body)
				require.Equal(t, tt.wantTruncated, res.Truncated, "got %v, want %v", res.Truncated, tt.wantTruncated)
			})
		}
	}
}

// pattern returns n recognisable bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	redirector := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		http.Redirect(w, r, target.URL+"/landed", status)
	})
	c := loopbackClient(t)

	// The group returns once its parallel subtests are done.
	t.Run("statuses", func(t *testing.T) {
		for _, status := range []int{301, 302, 303, 307, 308} {
			t.Run(strconv.Itoa(status), func(t *testing.T) {
				t.Parallel()
				res := c.Do(t.Context(), dispatch.Request{URL: fmt.Sprintf("%s/?status=%d", redirector.URL, status), Body: []byte("{}")})
				require.NoError(t, res.Err, "got %v, want nil", res.Err)
				require.Equal(t, status, res.StatusCode, "got %v, want %v", res.StatusCode, status)
				require.Equal(t, dispatch.Permanent, res.Outcome, "got %v, want %v", res.Outcome, dispatch.Permanent)
			})
		}
	})
	require.EqualValues(t, 5, redirector.hits.Load(), "redirector hit %v times, want 5", redirector.hits.Load())
	require.Zero(t, target.hits.Load(), "redirect target hit %v times, want 0", target.hits.Load())
	require.Zero(t, target.conns.Load(), "redirect target got %v connections, want 0", target.conns.Load())
}

func TestDoReusesConnections(t *testing.T) {
	t.Parallel()
	// The handler answers with the status and body size in the query.
	handler := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.WriteHeader(status)
		_, _ = w.Write(pattern(n))
	}

	tests := []struct {
		name      string
		statuses  []int
		size      int
		wantConns int64
	}{
		{name: "mixed statuses small bodies", statuses: []int{200, 500, 404, 429, 204, 200, 503, 302, 200, 200}, size: 20, wantConns: 1},
		{name: "truncated bodies are drained", statuses: []int{200, 200, 500, 200, 200}, size: 10_000, wantConns: 1},
		{name: "bodies too long to drain close the connection", statuses: []int{200, 200, 200}, size: 1 << 20, wantConns: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, handler)
			c := newClient(t, dispatch.Config{AllowedNetworks: loopback, MaxResponseBytes: 64})
			for i, status := range tt.statuses {
				u := fmt.Sprintf("%s/?status=%d&n=%d", srv.URL, status, tt.size)
				res := c.Do(t.Context(), dispatch.Request{URL: u, Body: []byte(`{"i":` + strconv.Itoa(i) + `}`)})
				require.NoError(t, res.Err, "request %d: got %v, want nil", i, res.Err)
				require.Equal(t, status, res.StatusCode, "request %d: got %v, want %v", i, res.StatusCode, status)
			}
			require.Equal(t, tt.wantConns, srv.conns.Load(), "got %v connections, want %v", srv.conns.Load(), tt.wantConns)
		})
	}
}

func TestDoConcurrent(t *testing.T) {
	t.Parallel()
	srv := newServer(t, statusHandler)
	c := loopbackClient(t)

	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Go(func() {
			for i := range 10 {
				res := c.Do(t.Context(), dispatch.Request{URL: srv.URL + "/?status=200", Body: []byte(strconv.Itoa(g*100 + i))})
				if res.Outcome != dispatch.Success || res.Err != nil {
					errs <- fmt.Errorf("goroutine %d request %d: got %v (%v), want %v", g, i, res.Outcome, res.Err, dispatch.Success)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 320, srv.hits.Load(), "got %v requests, want 320", srv.hits.Load())
}

func TestDoRequestErrors(t *testing.T) {
	t.Parallel()

	// A port nobody listens on: bind one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "http://" + l.Addr().String() + "/"
	require.NoError(t, l.Close())

	tests := []struct {
		name    string
		req     dispatch.Request
		want    dispatch.Outcome
		wantErr string
	}{
		{name: "connection refused", req: dispatch.Request{URL: closedURL}, want: dispatch.Retryable, wantErr: "connect"},
		{name: "unsupported scheme", req: dispatch.Request{URL: "ftp://example.com/file"}, want: dispatch.Invalid, wantErr: `scheme "ftp"`},
		{name: "relative URL", req: dispatch.Request{URL: "/hook"}, want: dispatch.Invalid, wantErr: `scheme ""`},
		{name: "malformed URL", req: dispatch.Request{URL: "http://[::1"}, want: dispatch.Invalid, wantErr: "building request"},
		{name: "invalid method", req: dispatch.Request{Method: "BAD METHOD", URL: "http://example.com/"}, want: dispatch.Invalid, wantErr: "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := loopbackClient(t)
			res := c.Do(t.Context(), tt.req)
			require.Equal(t, tt.want, res.Outcome, "got %v, want %v", res.Outcome, tt.want)
			require.ErrorContains(t, res.Err, tt.wantErr, "got %v, want error containing %q", res.Err, tt.wantErr)
			require.Zero(t, res.StatusCode, "got %v, want 0", res.StatusCode)
		})
	}
}

// A request Go's client would refuse before sending anything is Invalid:
// not sent, no connection made, and CheckRequest says so beforehand.
func TestDoInvalidRequestIsNotSent(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	header := func(name, value string) http.Header { return http.Header{name: {value}} }

	tests := []struct {
		name    string
		req     dispatch.Request
		wantErr string
	}{
		{name: "control character in a header value", req: dispatch.Request{Header: header("X-A", "a\x01b")}, wantErr: `header "X-A"`},
		{name: "DEL in a header value", req: dispatch.Request{Header: header("X-A", "a\x7fb")}, wantErr: `header "X-A"`},
		{name: "NUL in a header value", req: dispatch.Request{Header: header("X-A", "a\x00b")}, wantErr: `header "X-A"`},
		{name: "line feed in a header value", req: dispatch.Request{Header: header("X-A", "a\nX-B: b")}, wantErr: `header "X-A"`},
		{name: "header name not a token", req: dispatch.Request{Header: header("X A", "b")}, wantErr: `header name "X A"`},
		{name: "empty header name", req: dispatch.Request{Header: header("", "b")}, wantErr: `header name ""`},
		{name: "upgrade header", req: dispatch.Request{Header: header("Upgrade", "websocket")}, wantErr: "Upgrade"},
		{name: "connection header", req: dispatch.Request{Header: header("Connection", "upgrade")}, wantErr: "Connection"},
		{name: "transfer-encoding header", req: dispatch.Request{Header: header("Transfer-Encoding", "gzip")}, wantErr: "Transfer-Encoding"},
		{name: "method not a token", req: dispatch.Request{Method: "GET\r\n"}, wantErr: "method"},
		{name: "host ending in a number that is no address", req: dispatch.Request{URL: "http://1.2.3.256/"}, wantErr: "not a valid one"},
		{name: "invalid internationalised host", req: dispatch.Request{URL: "http://a\u200d\u0301b.example/"}, wantErr: "internationalised"},
		{name: "no host", req: dispatch.Request{URL: "http:///hook"}, wantErr: "no host"},
		{name: "invalid TLS settings", req: dispatch.Request{URL: "https://hooks.example.com/", TLS: &dispatch.TLS{CACertificates: "not PEM"}}, wantErr: "tls"},
	}
	// The group returns once its parallel subtests are done.
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				req := tt.req
				if req.URL == "" {
					req.URL = srv.URL + "/hook"
				}
				require.ErrorIs(t, dispatch.CheckRequest(req), dispatch.ErrInvalidRequest, "CheckRequest: got %v, want %v", dispatch.CheckRequest(req), dispatch.ErrInvalidRequest)
				res := loopbackClient(t).Do(t.Context(), req)
				require.Equal(t, dispatch.Invalid, res.Outcome, "got %v (%v), want %v", res.Outcome, res.Err, dispatch.Invalid)
				require.ErrorIs(t, res.Err, dispatch.ErrInvalidRequest, "got %v, want %v", res.Err, dispatch.ErrInvalidRequest)
				require.ErrorContains(t, res.Err, tt.wantErr, "got %v, want error containing %q", res.Err, tt.wantErr)
				require.Zero(t, res.StatusCode, "got %v, want 0", res.StatusCode)
			})
		}
	})
	require.Zero(t, srv.conns.Load(), "got %v connections, want none: nothing may be sent", srv.conns.Load())

	ok := dispatch.Request{URL: srv.URL + "/hook", Header: header("X-A", "tab\tand UTF-8 \u00e9")}
	require.NoError(t, dispatch.CheckRequest(ok), "got %v, want nil", dispatch.CheckRequest(ok))
	res := loopbackClient(t).Do(t.Context(), ok)
	require.Equal(t, dispatch.Success, res.Outcome, "got %v (%v), want %v", res.Outcome, res.Err, dispatch.Success)
}
