package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
)

// CallOption adjusts one call.
type CallOption func(*callConfig)

type callConfig struct {
	idempotencyKey string
	input          json.RawMessage
}

// WithIdempotencyKey gives a create (CreateJob, TriggerRun) this
// Idempotency-Key instead of a new random one: the same key and request
// within 24 hours get the first answer again, without creating anything.
func WithIdempotencyKey(key string) CallOption {
	return func(c *callConfig) { c.idempotencyKey = key }
}

// WithInput sends input, a JSON value, as the run's input with TriggerRun
// (tasks refer to it as {{ input.<path> }}). It needs a server that takes
// run input; one from before ignores it.
func WithInput(input json.RawMessage) CallOption {
	return func(c *callConfig) { c.input = input }
}

func callOptions(opts []CallOption) callConfig {
	var c callConfig
	for _, o := range opts {
		o(&c)
	}
	if c.idempotencyKey == "" {
		c.idempotencyKey = "herald-go-" + rand.Text()
	}
	return c
}

// jsonBody is a request editor sending v as the JSON body.
func jsonBody(v any) RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
		r.ContentLength = int64(len(raw))
		r.Header.Set("Content-Type", "application/json")
		return nil
	}
}
