package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ingestClients post jobs at once, each on its own keep-alive connection.
const ingestClients = 32

// ingestSample is one POST /v1/jobs answered.
type ingestSample struct {
	end     time.Time
	latency time.Duration
	created bool
}

// runIngest measures POST /v1/jobs from ingestClients clients posting
// back to back: jobs created per second, and the latency of those answered
// within the measured window. Each job is a one-off webhook due in a day,
// so that it is stored and its tick enqueued but nothing fires.
func runIngest(ctx context.Context, e *env) (_ []metric, err error) {
	st, err := e.startStack(ctx, 0)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	body := webhookJob("bench-ingest", st.receiver.URL(), &scheduleBody{Delay: laterDelay})
	if _, err := st.api.CreateJob(ctx, body); err != nil {
		return nil, fmt.Errorf("create a job: %w", err)
	}
	samples := make([][]ingestSample, ingestClients)
	for i := range samples {
		samples[i] = make([]ingestSample, 0, 4096)
	}
	l := startLoad(ctx, ingestClients, func(ctx context.Context, worker int) error {
		begin := time.Now()
		status, _, err := st.api.Post(ctx, "/v1/jobs", body)
		if err != nil {
			return fmt.Errorf("POST /v1/jobs: %w", err)
		}
		end := time.Now()
		samples[worker] = append(samples[worker], ingestSample{end: end, latency: end.Sub(begin), created: status == http.StatusCreated})
		return nil
	})
	if err := l.Run(ctx, e.size.Warmup); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := l.Run(ctx, e.size.Ingest); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := l.Stop(); err != nil {
		return nil, err
	}
	lat, failed := ingestWindow(samples, t0, t1)
	return []metric{
		newMetric("jobs created", rate(int64(len(lat)), t1.Sub(t0)), unitPerSecond).withTarget(atLeast(2000, unitPerSecond)),
		newMetric("latency p50", lat.quantile(0.50), unitMS),
		newMetric("latency p99", lat.quantile(0.99), unitMS).withTarget(atMost(25, unitMS)),
		newMetric("answers other than 201", float64(failed), unitCount),
	}, nil
}

// ingestWindow returns the sorted latencies of the jobs created with an
// answer in [from, to), and how many other answers came in that window.
func ingestWindow(perClient [][]ingestSample, from, to time.Time) (latencies, int) {
	var lat latencies
	failed := 0
	for _, samples := range perClient {
		for _, s := range samples {
			if s.end.Before(from) || !s.end.Before(to) {
				continue
			}
			if !s.created {
				failed++
				continue
			}
			lat = append(lat, s.latency)
		}
	}
	return lat.sorted(), failed
}
