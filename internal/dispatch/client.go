package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
)

// Transport settings that are not worth configuring.
const (
	tlsHandshakeTimeout    = 10 * time.Second
	idleConnTimeout        = 90 * time.Second
	tcpKeepAlive           = 30 * time.Second
	maxIdleConns           = 1024
	maxResponseHeaderBytes = 64 << 10
)

// Client sends deliveries. It keeps connections alive across deliveries to
// the same host and is safe for concurrent use; make one and share it.
type Client struct {
	http      *http.Client
	transport *http.Transport
	guard     *guard
	maxBody   int

	tlsMu      sync.Mutex
	tlsClients map[[32]byte]*http.Client // see clientFor
	// wrap wraps each transport: tracing, or nothing.
	wrap func(http.RoundTripper) http.RoundTripper

	// Header values set on every request. They are shared, read-only, by all
	// requests, which saves allocating them per request.
	userAgent   []string
	contentType []string
}

// New returns a Client configured by cfg.
func New(cfg Config) *Client {
	cfg = cfg.withDefaults()
	g := newGuard(cfg.AllowedNetworks)
	dialer := &net.Dialer{
		Timeout:   cfg.DialTimeout,
		KeepAlive: tcpKeepAlive,
		// Runs on every resolved address before connecting to it.
		ControlContext: g.control,
	}
	transport := &http.Transport{
		// Never a proxy from the environment: the guard would check the
		// proxy's address instead of the target's.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		MaxIdleConns:           max(maxIdleConns, cfg.MaxIdleConnsPerHost),
		MaxIdleConnsPerHost:    cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:        idleConnTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		// Bodies are captured as sent, and a compressed body cannot inflate
		// past the cap.
		DisableCompression: true,
		// The response header wait is bounded by Request.Timeout, through
		// the request's context.
	}
	wrap := func(rt http.RoundTripper) http.RoundTripper { return rt }
	if cfg.TracerProvider != nil {
		wrap = func(rt http.RoundTripper) http.RoundTripper {
			return otelhttp.NewTransport(rt,
				otelhttp.WithTracerProvider(cfg.TracerProvider),
				otelhttp.WithPropagators(propagation.TraceContext{}),
				otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "webhook " + r.Method }))
		}
	}
	return &Client{
		wrap: wrap,
		http: &http.Client{
			Transport: wrap(transport),
			// A 3xx is the receiver's answer, a permanent failure: following
			// it could lead anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		transport:   transport,
		tlsClients:  make(map[[32]byte]*http.Client),
		guard:       g,
		maxBody:     cfg.MaxResponseBytes,
		userAgent:   []string{cfg.UserAgent},
		contentType: []string{"application/json"},
	}
}

// Do sends req and returns what happened; it never panics on a bad request
// but reports it, unsent, as an Invalid Result (see CheckRequest). The
// attempt ends after req.Timeout or when ctx is done, whichever comes first;
// a cancelled ctx gives a Retryable Result whose Err wraps ctx's error.
func (c *Client) Do(ctx context.Context, req Request) Result {
	// The attempt's clock starts with its timeout's, so that an attempt
	// that timed out lasted at least the timeout.
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(max(req.Timeout, 0), DefaultTimeout))
	defer cancel()

	httpReq, err := c.newRequest(ctx, req)
	if err != nil {
		return Result{Outcome: Invalid, Err: err}
	}
	hc, err := c.clientFor(req.TLS)
	if err != nil {
		return Result{Outcome: Invalid, Err: fmt.Errorf("%w: tls: %w", ErrInvalidRequest, err)}
	}

	resp, err := send(hc, httpReq)
	if err != nil {
		return Result{Outcome: classifyError(err), Err: err, Duration: time.Since(start)}
	}
	defer drainAndClose(resp.Body)

	body, truncated, err := readCapped(resp.Body, resp.ContentLength, c.maxBody)
	res := Result{
		Outcome:    classify(resp.StatusCode),
		StatusCode: resp.StatusCode,
		Body:       body,
		Truncated:  truncated,
		Duration:   time.Since(start),
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		res.RetryAfter = parseRetryAfter(v, time.Now())
	}
	if err != nil {
		res.Err = fmt.Errorf("reading response body: %w", err)
	}
	return res
}

// send is hc.Do without the redirect machinery that no Client of this
// package uses (CheckRedirect answers a 3xx with itself) but that
// http.Client pays for on every request: a copy of the request's headers
// for the redirects it might follow, 5% of herald's allocations in the
// benchmark's delivery window (pprof). An error reads as http.Client's:
// `Post "url": cause`, the URL's password hidden.
func send(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Transport.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: req.Method[:1] + strings.ToLower(req.Method[1:]), URL: hidePassword(req.URL), Err: err}
	}
	return resp, nil
}

// hidePassword is u as http.Client's errors show it: a password as ***.
func hidePassword(u *url.URL) string {
	if _, set := u.User.Password(); set {
		return strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1)
	}
	return u.String()
}

// CloseIdleConnections closes the connections kept alive for later
// deliveries, e.g. at shutdown. The Client stays usable.
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
	c.tlsMu.Lock()
	defer c.tlsMu.Unlock()
	for _, hc := range c.tlsClients {
		hc.CloseIdleConnections()
	}
}

// newRequest builds the outgoing request for req, without modifying it;
// errors wrap ErrInvalidRequest (see buildRequest).
func (c *Client) newRequest(ctx context.Context, req Request) (*http.Request, error) {
	httpReq, err := buildRequest(ctx, req)
	if err != nil {
		return nil, err
	}

	// A shallow copy: the values are only read by the transport, and the
	// entries set here replace slices rather than modify the caller's.
	h := make(http.Header, len(req.Header)+2)
	maps.Copy(h, req.Header)
	h["User-Agent"] = c.userAgent
	if len(req.Body) > 0 && len(h["Content-Type"]) == 0 {
		h["Content-Type"] = c.contentType
	}
	httpReq.Header = h
	return httpReq, nil
}

// classifyError returns the outcome of a request that got no response.
func classifyError(err error) Outcome {
	if errors.Is(err, ErrTargetRefused) {
		return Permanent
	}
	return Retryable
}
