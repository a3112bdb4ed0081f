package main

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/herald-sched/herald/jobs"
)

const (
	// maxBodyBytes is the API body limit the benchmark's herald gets: a
	// 10,000-task DAG is about 1 MB of JSON, herald's default limit.
	maxBodyBytes = 32 << 20
	// maxTasksEnv sets herald's task limit per job (default 10,000).
	maxTasksEnv = "HERALD_MAX_TASKS"
	// maxTasksLimit is the task limit the benchmark's herald gets:
	// comfortably above any DAG size.
	maxTasksLimit = 100_000
	// deliveryWorkers is herald's default number of delivery workers
	// (jobs.DefaultDeliveryWorkers). Every delivery goes to the one receiver
	// host, so the benchmark lets that host take all of them: herald's
	// per-host cap (default 20) shields other hosts from a hung one, and
	// with a single host it would be the only bound measured.
	deliveryWorkers = jobs.DefaultDeliveryWorkers
)

// stack is one scenario's system under test: a herald process on a fresh
// database, a receiver for its webhooks, and an API client.
type stack struct {
	herald   *heraldProcess
	receiver *receiver
	api      *apiClient
	// dbURL is herald's database.
	dbURL  string
	dropDB func() error
}

// startStack starts a stack whose receiver has room for capacity
// deliveries before it grows; extraEnv (NAME=value) adds to, or overrides,
// the herald's environment.
func (e *env) startStack(ctx context.Context, capacity int, extraEnv ...string) (_ *stack, err error) {
	s := &stack{}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
		}
	}()
	url, drop, err := e.freshDatabase(ctx)
	if err != nil {
		return nil, err
	}
	s.dbURL, s.dropDB = url, drop
	if s.receiver, err = startReceiver(capacity, e.logger); err != nil {
		return nil, err
	}
	apiKey := strings.ToLower(rand.Text())
	s.herald, err = startHerald(ctx, heraldConfig{bin: e.heraldBin, env: append(heraldEnv(url, apiKey), extraEnv...), stderr: e.heraldLog})
	if err != nil {
		return nil, err
	}
	s.api = newAPIClient(s.herald.BaseURL(), apiKey)
	return s, nil
}

// Close stops the herald, then the receiver, and drops the database.
func (s *stack) Close() error {
	var errs []error
	if s.api != nil {
		s.api.Close()
	}
	if s.herald != nil {
		errs = append(errs, s.herald.Stop())
	}
	if s.receiver != nil {
		errs = append(errs, s.receiver.Close())
	}
	if s.dropDB != nil {
		errs = append(errs, s.dropDB())
	}
	return errors.Join(errs...)
}

// heraldEnv is the environment of a benchmarked herald: the benchmark's own
// without any database or herald setting, plus the tuned settings.
func heraldEnv(databaseURL, apiKey string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "HERALD_") || name == "DATABASE_URL" || name == "TEST_DATABASE_URL" {
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"DATABASE_URL="+databaseURL,
		"HERALD_ADDR=127.0.0.1:0",
		"HERALD_API_KEY="+apiKey,
		"HERALD_ALLOWED_TARGET_NETWORKS=127.0.0.0/8",
		"HERALD_LOG_LEVEL=warn",
		"HERALD_LOG_FORMAT=text",
		"HERALD_SHUTDOWN_TIMEOUT=5s",
		"HERALD_MAX_BODY_BYTES="+strconv.Itoa(maxBodyBytes),
		"HERALD_DELIVERY_WORKERS="+strconv.Itoa(deliveryWorkers),
		"HERALD_MAX_IN_FLIGHT_PER_HOST="+strconv.Itoa(deliveryWorkers),
		maxTasksEnv+"="+strconv.Itoa(maxTasksLimit),
	)
}
