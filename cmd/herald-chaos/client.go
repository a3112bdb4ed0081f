package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// tryTimeout bounds one HTTP request to nginx.
	tryTimeout = 15 * time.Second
	// firstBackoff is the wait before the first retry; it doubles up to
	// maxBackoff. A Retry-After header is honoured up to maxRetryAfter.
	firstBackoff  = 100 * time.Millisecond
	maxBackoff    = 2 * time.Second
	maxRetryAfter = 5 * time.Second
	// clientConns is how many keep-alive connections the client keeps to nginx.
	clientConns = 64
)

// outcome is how one operation (a registration, a trigger, a pause) ended
// for the client, after its retries.
type outcome struct {
	// Key is the Idempotency-Key every try carried.
	Key string
	// ID is the id of the created job or run, when acknowledged.
	ID string
	// Acked reports a 2xx answer with an id.
	Acked bool
	// Status is the last answer's status, 0 when the last try got none.
	Status int
	// Err is the last try's transport error or problem detail.
	Err string
	// Tries counts the requests sent.
	Tries int
	// At is when the operation began, AckedAt when it was acknowledged.
	At, AckedAt time.Time
}

// apiClient calls herald's REST API through nginx the way a careful client
// does: every operation carries an Idempotency-Key and is resent, with the
// same key, after a transport error or an answer that says to try again
// (408, 409 while the first try still runs, 425, 429, 5xx), honouring
// Retry-After, until it is answered or its deadline passes.
type apiClient struct {
	base, auth string
	http       *http.Client
	// deadline bounds one operation with its retries.
	deadline time.Duration
	// answers counts every answer by phase and status.
	answers *answerCounter
}

// newAPIClient returns a client of the herald behind base.
func newAPIClient(base, apiKey string, deadline time.Duration, answers *answerCounter) *apiClient {
	transport := &http.Transport{MaxIdleConns: clientConns, MaxIdleConnsPerHost: clientConns, IdleConnTimeout: time.Minute}
	return &apiClient{
		base: base, auth: "Bearer " + apiKey, deadline: deadline, answers: answers,
		http: &http.Client{Transport: transport, Timeout: tryTimeout},
	}
}

// newKey returns a fresh Idempotency-Key (also a valid label value).
func newKey() string { return strings.ToLower(rand.Text()) }

// Post sends body (JSON, may be nil) to path with Idempotency-Key key until
// it is answered with a final status; want is the status that acknowledges it.
func (c *apiClient) Post(ctx context.Context, path string, body []byte, key string, want int) outcome {
	o := outcome{Key: key, At: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, c.deadline)
	defer cancel()
	backoff := firstBackoff
	for {
		o.Tries++
		status, raw, retryAfter, err := c.try(ctx, path, body, o.Key)
		o.Status, o.Err = status, ""
		switch {
		case err != nil:
			o.Err = err.Error()
		case status == want:
			var out struct {
				ID string `json:"id"`
			}
			if jerr := json.Unmarshal(raw, &out); jerr != nil || out.ID == "" {
				o.Err = fmt.Sprintf("no id in the answer: %.200s", raw)
				return o
			}
			o.ID, o.Acked, o.AckedAt = out.ID, true, time.Now()
			return o
		default:
			o.Err = problemDetail(raw)
			if !retryable(status) {
				return o
			}
		}
		wait := max(backoff, min(retryAfter, maxRetryAfter))
		backoff = min(2*backoff, maxBackoff)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if o.Err == "" {
				o.Err = ctx.Err().Error()
			}
			return o
		case <-timer.C:
		}
	}
}

// try sends one request and returns its answer.
func (c *apiClient) try(ctx context.Context, path string, body []byte, key string) (int, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Idempotency-Key", key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.answers.Add(0)
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	c.answers.Add(resp.StatusCode)
	var retryAfter time.Duration
	if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, raw, retryAfter, err
}

// retryable reports whether an answer with status says to send again.
func retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// problemDetail returns a problem+json answer's detail, or the body shortened.
func problemDetail(raw []byte) string {
	var p struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.Detail == "" {
		return fmt.Sprintf("%.200s", raw)
	}
	return p.Detail
}

// Close releases the client's idle connections.
func (c *apiClient) Close() { c.http.CloseIdleConnections() }
