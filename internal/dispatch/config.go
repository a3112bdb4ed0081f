package dispatch

import (
	"cmp"
	"net/netip"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Defaults applied by New to zero (or negative) Config fields, and by Do to a
// zero Request.Timeout.
const (
	DefaultMaxResponseBytes    = 4096
	DefaultUserAgent           = "herald/1"
	DefaultMaxIdleConnsPerHost = 16
	DefaultDialTimeout         = 5 * time.Second
	DefaultTimeout             = 30 * time.Second
)

// Config configures a Client. The zero value is ready to use.
type Config struct {
	// AllowedNetworks are networks the Client connects to even though the
	// SSRF guard would refuse them: an edge deployment's LAN, or loopback in
	// tests. It comes from HERALD_ALLOWED_TARGET_NETWORKS. Everything in an
	// allowed network is allowed, cloud-metadata addresses included.
	// IPv4-mapped IPv6 prefixes (::ffff:a.b.c.d/n, n >= 96) are treated as
	// their IPv4 form.
	AllowedNetworks []netip.Prefix
	// MaxResponseBytes is how many bytes of a response body are kept in
	// Result.Body; default DefaultMaxResponseBytes (4096).
	MaxResponseBytes int
	// UserAgent is the User-Agent header of every request; default
	// DefaultUserAgent ("herald/1").
	UserAgent string
	// MaxIdleConnsPerHost is how many idle keep-alive connections are kept
	// per host for later deliveries; default DefaultMaxIdleConnsPerHost (16).
	MaxIdleConnsPerHost int
	// DialTimeout bounds establishing one TCP connection, DNS resolution
	// included; default DefaultDialTimeout (5s). Request.Timeout still bounds
	// the whole exchange.
	DialTimeout time.Duration
	// TracerProvider, if set, traces each request (otelhttp: a client span)
	// and sends its W3C trace context (traceparent) to the receiver.
	TracerProvider trace.TracerProvider
}

// withDefaults returns cfg with every unset field set to its default.
func (cfg Config) withDefaults() Config {
	cfg.MaxResponseBytes = cmp.Or(max(cfg.MaxResponseBytes, 0), DefaultMaxResponseBytes)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, DefaultUserAgent)
	cfg.MaxIdleConnsPerHost = cmp.Or(max(cfg.MaxIdleConnsPerHost, 0), DefaultMaxIdleConnsPerHost)
	cfg.DialTimeout = cmp.Or(max(cfg.DialTimeout, 0), DefaultDialTimeout)
	return cfg
}
