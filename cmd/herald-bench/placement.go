package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	// latencyRate is how many runs per second the placement and pull
	// scenarios trigger: a light load, so that what is measured is the
	// path of one task, not a queue.
	latencyRate = 50
	// placementJobs is how many jobs of each kind (pool, URL) the
	// placement scenario triggers in turn, so that runs of one job do not
	// contend on its row.
	placementJobs = 10
	// placementTopN spreads the pool's tasks over its best few devices.
	placementTopN = 3
	// fleetSettle is how long herald may take to see devices online after
	// their heartbeats: its fleet snapshot is at most 500 ms old
	// (device.DefaultFleetRefresh), and a margin.
	fleetSettle = 600 * time.Millisecond
	// latencyDeviceTimeout keeps the devices of the placement and pull
	// scenarios online after their one heartbeat, so that no heartbeat
	// load runs while latency is measured (the heartbeat scenario measures
	// that load).
	latencyDeviceTimeout = "HERALD_DEVICE_TIMEOUT=1h"
)

// Kinds of the placement scenario's runs.
const (
	kindPool = iota
	kindURL
	placementKinds
)

// runPlacement measures placing one task in a large pool: PlacementDevices
// push-mode devices, all online with different loads, one pool selecting
// all of them (load_aware, top_n placementTopN). Runs of pool jobs and of
// plain URL jobs (same receiver) are triggered alternately at latencyRate
// for a warm-up and the Latency window; each run's trigger-to-arrival time
// is compared between the two kinds, so that the difference is what
// placement adds: the fleet snapshot, the chain over the pool, the
// device's admission.
func runPlacement(ctx context.Context, e *env) (_ []metric, err error) {
	n := e.size.PlacementDevices
	window := e.size.Warmup + e.size.Latency
	st, err := e.startStack(ctx, int(window.Seconds()*latencyRate*2)+1000, latencyDeviceTimeout)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	begin := time.Now()
	devs, err := registerDevices(ctx, st.api, n, func(i int) deviceBody { return pushDevice("placement", i, st.receiver) })
	if err != nil {
		return nil, fmt.Errorf("register devices: %w", err)
	}
	registration := time.Since(begin)
	client := newDeviceClient(st.herald.BaseURL(), heartbeatClients)
	defer client.Close()
	if err := heartbeatAll(ctx, client, devs); err != nil {
		return nil, err
	}
	pool := &targetBody{Pool: &poolBody{Selector: map[string]string{deviceLabel: "placement"}, Strategy: "load_aware", TopN: placementTopN}, Path: "/hook"}
	var jobs [placementKinds][]string
	if jobs[kindPool], err = registerJobs(ctx, st.api, targetJob("bench-placement-pool", pool), placementJobs); err != nil {
		var refused *refusedError
		if errors.As(err, &refused) {
			return nil, notAvailable("the API refuses pool targets: %s", refused.Detail)
		}
		return nil, fmt.Errorf("register pool jobs: %w", err)
	}
	if jobs[kindURL], err = registerJobs(ctx, st.api, webhookJob("bench-placement-url", st.receiver.URL(), nil), placementJobs); err != nil {
		return nil, fmt.Errorf("register URL jobs: %w", err)
	}
	if err := sleep(ctx, fleetSettle); err != nil {
		return nil, err
	}

	from := time.Now().Add(e.size.Warmup)
	runs, err := pacedTriggers(ctx, st.api, latencyRate, window, func(i int) (string, int) {
		kind := i % placementKinds
		return jobs[kind][(i/placementKinds)%placementJobs], kind
	})
	if err != nil {
		return nil, err
	}
	if err := waitForArrivals(ctx, runs, func() int { return int(st.receiver.Count()) }); err != nil {
		return nil, err
	}
	ds := st.receiver.Deliveries()
	lat, lost := triggerLatencies(runs, firstArrivals(ds), from, placementKinds)
	return []metric{
		newMetric("devices in the pool, online", float64(n), unitCount),
		newMetric("device registration", rate(int64(n), registration), unitPerSecond),
		newMetric("runs measured per kind", float64(len(lat[kindPool])), unitCount),
		newMetric("pool task: trigger to arrival p50", lat[kindPool].quantile(0.50), unitMS),
		newMetric("pool task: trigger to arrival p99", lat[kindPool].quantile(0.99), unitMS),
		newMetric("pool task: trigger to arrival max", lat[kindPool].max(), unitMS),
		newMetric("URL task: trigger to arrival p50", lat[kindURL].quantile(0.50), unitMS),
		newMetric("URL task: trigger to arrival p99", lat[kindURL].quantile(0.99), unitMS),
		newMetric("URL task: trigger to arrival max", lat[kindURL].max(), unitMS),
		newMetric("pool minus URL, p50", lat[kindPool].quantile(0.50)-lat[kindURL].quantile(0.50), unitMS),
		newMetric("devices chosen", float64(devicesChosen(ds)), unitCount),
		newMetric("runs not arrived", float64(lost[kindPool]+lost[kindURL]), unitCount),
	}, nil
}

// devicesChosen counts the distinct push-mode devices deliveries went to.
func devicesChosen(ds []delivery) int {
	seen := map[string]bool{}
	for _, d := range ds {
		if rest, ok := strings.CutPrefix(d.Path, devicePathPrefix); ok {
			dev, _, _ := strings.Cut(rest, "/")
			seen[dev] = true
		}
	}
	return len(seen)
}

// heartbeatAll sends one heartbeat of every device, heartbeatClients at a
// time: they are online from then on.
func heartbeatAll(ctx context.Context, client *deviceClient, devs []benchDevice) error {
	k := min(heartbeatClients, len(devs))
	return parallel(ctx, k, func(ctx context.Context, w int) error {
		for i := w; i < len(devs); i += k {
			status, err := client.Heartbeat(ctx, devs[i], heartbeatBody(i, len(devs)))
			if err != nil {
				return err
			}
			if status != http.StatusNoContent {
				return fmt.Errorf("heartbeat of device %s: status %d", devs[i].ID, status)
			}
		}
		return nil
	})
}
