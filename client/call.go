package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// retryPolicy says when a call may be sent again.
type retryPolicy int

const (
	// retryIfUnchanged: on a 503 (nothing was changed) or when the request
	// was not sent; for writes that must not happen twice.
	retryIfUnchanged retryPolicy = iota
	// retryAlways: also when the answer was lost; for reads and writes
	// that are idempotent (PUT, pause, creates with an Idempotency-Key).
	retryAlways
)

// maxRetryAfter caps how long a retry waits for a 503's Retry-After.
const maxRetryAfter = 5 * time.Second

// do sends a request through send until it is answered (retrying as policy
// allows) and decodes a 2xx answer into a T ([]byte: the body as it is;
// struct{}: nothing). Any other answer is a *Problem.
func do[T any](ctx context.Context, c *Client, policy retryPolicy, send func(context.Context) (*http.Response, error)) (*T, error) {
	for attempt := 0; ; attempt++ {
		retry := attempt < c.retries
		resp, err := send(ctx)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if retry && (policy == retryAlways || notSent(err)) {
				if werr := wait(ctx, backoff(attempt)); werr != nil {
					return nil, werr
				}
				continue
			}
			return nil, fmt.Errorf("herald at %s: %w", c.baseURL, err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && retry {
			if werr := wait(ctx, retryAfter(resp, attempt)); werr != nil {
				return nil, werr
			}
			continue
		}
		if resp.StatusCode/100 != 2 {
			return nil, problemFrom(resp, body)
		}
		out := new(T)
		switch v := any(out).(type) {
		case *[]byte:
			*v = body
		case *struct{}:
		default:
			if err := json.Unmarshal(body, out); err != nil {
				return nil, fmt.Errorf("herald at %s: %s %s: decoding the answer: %w", c.baseURL, resp.Request.Method, resp.Request.URL.Path, err)
			}
		}
		return out, nil
	}
}

// notSent reports whether err happened before the request left: the
// server could not be resolved or connected to.
func notSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &dns)
}

func backoff(attempt int) time.Duration { return 200 * time.Millisecond << attempt }

// retryAfter is a 503's Retry-After (seconds), capped, or the backoff.
func retryAfter(resp *http.Response, attempt int) time.Duration {
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	return backoff(attempt)
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
