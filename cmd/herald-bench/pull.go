package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// pullWait is how long each long-poll of the pull scenario waits for a task
// (?wait=), as a device behind NAT would.
const pullWait = 20 * time.Second

// runPull measures pull mode's round trip: PullDevices pull-mode devices
// (no URL), online, each long-polling GET /v1/devices/{id}/tasks?wait= on a
// connection of its own and reporting each task's result at once. Each
// device has a job whose task targets it; runs of these jobs, in turn, are
// triggered at latencyRate for a warm-up and the Latency window. The figure
// is trigger sent to task received by its device's long-poll. While every
// device waits, before the triggers, it also counts herald's database
// connections: waiting long-polls must not hold one each.
func runPull(ctx context.Context, e *env) (_ []metric, err error) {
	n := e.size.PullDevices
	st, err := e.startStack(ctx, 0, latencyDeviceTimeout)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	devs, err := registerDevices(ctx, st.api, n, func(i int) deviceBody { return pullDevice("pull", i) })
	if err != nil {
		return nil, fmt.Errorf("register devices: %w", err)
	}
	client := newDeviceClient(st.herald.BaseURL(), n+heartbeatClients)
	defer client.Close()
	if err := heartbeatAll(ctx, client, devs); err != nil {
		return nil, err
	}
	jobs, err := registerEach(ctx, st.api, n, func(i int) []byte {
		return targetJob("bench-pull-"+strconv.Itoa(i), &targetBody{Device: devs[i].ID, Path: "/pull"})
	})
	var refused *refusedError
	if errors.As(err, &refused) {
		return nil, notAvailable("the API refuses device targets: %s", refused.Detail)
	}
	if err != nil {
		return nil, fmt.Errorf("register jobs: %w", err)
	}

	got := &pullLog{at: map[string]time.Time{}}
	pollCtx, stopPolls := context.WithCancel(ctx)
	polls := make(chan error, 1)
	go func() { polls <- got.poll(pollCtx, client, devs) }()
	stop := sync.OnceValue(func() error {
		stopPolls()
		return <-polls
	})
	defer func() { err = errors.Join(err, stop()) }()
	if err := sleep(ctx, fleetSettle); err != nil {
		return nil, err
	}
	conns, active, err := e.db.Connections(ctx, st.dbURL)
	if err != nil {
		return nil, err
	}

	from := time.Now().Add(e.size.Warmup)
	runs, err := pacedTriggers(ctx, st.api, latencyRate, e.size.Warmup+e.size.Latency, func(i int) (string, int) {
		return jobs[i%n], 0
	})
	if err != nil {
		return nil, err
	}
	if err := waitForArrivals(ctx, runs, got.count); err != nil {
		return nil, err
	}
	if err := stop(); err != nil {
		return nil, err
	}
	lat, lost := triggerLatencies(runs, got.arrivals(), from, 1)
	return []metric{
		newMetric("devices long-polling", float64(n), unitCount),
		newMetric("herald's database connections while they wait", float64(conns), unitCount),
		newMetric("of which not idle", float64(active), unitCount),
		newMetric("runs measured", float64(len(lat[0])), unitCount),
		newMetric("trigger to device p50", lat[0].quantile(0.50), unitMS),
		newMetric("trigger to device p99", lat[0].quantile(0.99), unitMS),
		newMetric("trigger to device max", lat[0].max(), unitMS),
		newMetric("tasks not received", float64(lost[0]), unitCount),
	}, nil
}

// pullLog records when each run's task reached its device.
type pullLog struct {
	mu sync.Mutex
	at map[string]time.Time // by run id, the first time
}

// poll long-polls for every device at once, each on its own goroutine,
// recording and reporting every task, until ctx ends.
func (l *pullLog) poll(ctx context.Context, client *deviceClient, devs []benchDevice) error {
	err := parallel(ctx, len(devs), func(ctx context.Context, i int) error {
		for ctx.Err() == nil {
			t, err := client.Pull(ctx, devs[i], pullWait)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return err
			}
			if t == nil {
				continue
			}
			l.record(t.Request.Headers["Herald-Run"], time.Now())
			if err := client.Report(ctx, devs[i], t.LeaseID, http.StatusOK); err != nil && ctx.Err() == nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (l *pullLog) record(run string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.at[run]; !ok {
		l.at[run] = at
	}
}

// count is how many runs' tasks arrived.
func (l *pullLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.at)
}

// arrivals returns a copy of the record.
func (l *pullLog) arrivals() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.at)
}
