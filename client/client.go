package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls a herald server's REST API with an API key. Its methods
// return a *Problem when the server refuses a call. It is safe for
// concurrent use.
type Client struct {
	raw     *RawClient
	baseURL string
	retries int
}

// Option configures a Client.
type Option func(*config)

type config struct {
	doer      HttpRequestDoer
	userAgent string
	retries   int
	editors   []RequestEditorFn
}

// DefaultRetries is how many times a call is retried, by default, when the
// server answers 503 (its database is away: nothing was changed) or when the
// request could not be sent; reads and idempotent calls (creates carry an
// Idempotency-Key) also when the answer was lost on the way.
const DefaultRetries = 2

// WithDoer sends requests through d (an *http.Client, for a timeout, a
// proxy or TLS settings of your own) instead of a client with a 60s timeout.
func WithDoer(d HttpRequestDoer) Option { return func(c *config) { c.doer = d } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithRetries sets how many times a call may be retried (see
// DefaultRetries); 0 disables retries.
func WithRetries(n int) Option { return func(c *config) { c.retries = max(n, 0) } }

// WithRequestEditor lets fn change every request before it is sent (extra
// headers, tracing).
func WithRequestEditor(fn RequestEditorFn) Option {
	return func(c *config) { c.editors = append(c.editors, fn) }
}

// New returns a client of the herald server at baseURL (such as
// "http://localhost:8080") that authenticates with apiKey (none when empty,
// for a server run with --insecure-no-auth).
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("herald URL %q: want http(s)://host[:port]", baseURL)
	}
	cfg := config{doer: &http.Client{Timeout: 60 * time.Second}, retries: DefaultRetries, userAgent: "herald-go-client"}
	for _, o := range opts {
		o(&cfg)
	}
	editors := []ClientOption{WithHTTPClient(cfg.doer), WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		if apiKey != "" {
			r.Header.Set("Authorization", "Bearer "+apiKey)
		}
		if cfg.userAgent != "" {
			r.Header.Set("User-Agent", cfg.userAgent)
		}
		return nil
	})}
	for _, fn := range cfg.editors {
		editors = append(editors, WithRequestEditorFn(fn))
	}
	base := strings.TrimRight(u.String(), "/")
	raw, err := NewClient(base, editors...)
	if err != nil {
		return nil, err
	}
	return &Client{raw: raw, baseURL: base, retries: cfg.retries}, nil
}

// BaseURL is the server's URL, as given to New.
func (c *Client) BaseURL() string { return c.baseURL }

// Raw is the generated client, with the base URL and API key set, for the
// operations Client does not wrap. Its answers are not turned into errors.
func (c *Client) Raw() *ClientWithResponses { return &ClientWithResponses{ClientInterface: c.raw} }
