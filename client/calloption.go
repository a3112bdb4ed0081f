package client

import (
	"crypto/rand"
	"encoding/json"
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
// (tasks refer to it as {{ input.<path> }}, conditions as input).
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
