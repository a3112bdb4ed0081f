package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// runHeartbeat measures device heartbeats and what they cost deliveries.
// It registers HeartbeatDevices push-mode devices and the delivery
// scenario's jobs, then measures four windows on one herald:
//
//   - deliveries alone, fed in the database as in the delivery scenario;
//   - the same with every device heartbeating every heartbeatPeriod with
//     its own token (the load: 10,000 devices are 2,000
//     heartbeats/s), the heartbeats ingested per second and their latency;
//   - deliveries alone again, which shows how much of a difference is drift
//     (tables growing) rather than the heartbeats;
//   - heartbeats flat out from heartbeatClients clients, once the runs
//     started are delivered, with no deliveries: the most this herald
//     ingests, and what PostgreSQL does per heartbeat.
func runHeartbeat(ctx context.Context, e *env) (_ []metric, err error) {
	n := e.size.HeartbeatDevices
	seconds := 3*(e.size.Warmup+e.size.Delivery).Seconds() + 5
	st, err := e.startStack(ctx, int(seconds*expectedDeliveryRate))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	begin := time.Now()
	devs, err := registerDevices(ctx, st.api, n, func(i int) deviceBody { return pushDevice("heartbeat", i, st.receiver) })
	if err != nil {
		return nil, fmt.Errorf("register devices: %w", err)
	}
	registration := time.Since(begin)
	jobIDs, err := registerJobs(ctx, st.api, webhookJob("bench-heartbeat", st.receiver.URL(), nil), deliveryJobs)
	if err != nil {
		return nil, fmt.Errorf("register jobs: %w", err)
	}
	feed, err := newDBFeed(ctx, st.dbURL, jobIDs)
	if err != nil {
		return nil, err
	}
	defer feed.Close()
	client := newDeviceClient(st.herald.BaseURL(), heartbeatConns)
	defer client.Close()

	d := &deliveryRun{size: e.size, receiver: st.receiver, readCPU: func() (cpuUse, error) {
		return readCPU(ctx, e.db, st.dbURL, st.herald.PID())
	}}
	before, err := d.measure(ctx, feed, dbFeedClients)
	if err != nil {
		return nil, fmt.Errorf("deliveries before heartbeats: %w", err)
	}
	paced := newHeartbeater(client, devs)
	paced.Start(ctx, true)
	during, err := d.measure(ctx, feed, dbFeedClients)
	if err = errors.Join(err, paced.Stop()); err != nil {
		return nil, fmt.Errorf("deliveries during heartbeats: %w", err)
	}
	after, err := d.measure(ctx, feed, dbFeedClients)
	if err != nil {
		return nil, fmt.Errorf("deliveries after heartbeats: %w", err)
	}
	pacedCount, pacedLat := paced.Window(during.from, during.to)
	// The flat-out window measures heartbeats alone: the runs started
	// above are delivered first.
	if err := waitForDeliveries(ctx, st.receiver, d.started.Load(), drainTimeout); err != nil {
		return nil, fmt.Errorf("deliveries before the flat-out heartbeats: %w", err)
	}

	flatOut, flatCost, err := heartbeatsFlatOut(ctx, e, st, client, devs)
	if err != nil {
		return nil, err
	}
	flatCount, flatLat := flatOut.Window(flatOut.from, flatOut.to)
	metrics := []metric{
		newMetric("devices", float64(n), unitCount),
		newMetric("device registration", rate(int64(n), registration), unitPerSecond),
		newMetric("deliveries before heartbeats", before.deliveries, unitPerSecond).withRatio(e.baselineRate),
		newMetric("deliveries during heartbeats", during.deliveries, unitPerSecond).withRatio(e.baselineRate),
		newMetric("deliveries after heartbeats", after.deliveries, unitPerSecond).withRatio(e.baselineRate),
		// Deliveries slow down as the tables grow: the windows around the
		// heartbeats' bound that drift.
		newMetric("deliveries during / mean of before and after", during.deliveries/((before.deliveries+after.deliveries)/2), unitTimes),
	}
	for _, w := range []struct {
		name string
		win  deliveryWindow
	}{{"before", before}, {"during", during}, {"after", after}} {
		herald, bench, db := cores(w.win.cpuFrom, w.win.cpuTo)
		metrics = append(metrics, newMetric("CPU cores "+w.name+": herald", herald, unitAverage))
		if !math.IsNaN(db) { // the backends are local processes
			metrics = append(metrics, newMetric("CPU cores "+w.name+": PostgreSQL backends", db, unitAverage))
		}
		metrics = append(metrics, newMetric("CPU cores "+w.name+": bench (receiver, feed, device clients)", bench, unitAverage))
	}
	metrics = append(metrics,
		newMetric("heartbeats offered (each device every 5 s)", float64(n)/heartbeatPeriod.Seconds(), unitPerSecond),
		newMetric("heartbeats ingested during deliveries", rate(pacedCount, during.to.Sub(during.from)), unitPerSecond).
			withTarget(atLeast(0.95*float64(n)/heartbeatPeriod.Seconds(), unitPerSecond)),
		newMetric("heartbeat latency p50, paced", pacedLat.quantile(0.50), unitMS),
		newMetric("heartbeat latency p99, paced", pacedLat.quantile(0.99), unitMS),
		newMetric("paced turns skipped (the device's last heartbeat unanswered)", float64(paced.skipped.Load()), unitCount),
		newMetric(fmt.Sprintf("heartbeats ingested flat out (%d clients, no deliveries)", paced.clients()), rate(flatCount, flatOut.to.Sub(flatOut.from)), unitPerSecond),
		newMetric("heartbeat latency p50, flat out", flatLat.quantile(0.50), unitMS),
		newMetric("heartbeat latency p99, flat out", flatLat.quantile(0.99), unitMS),
		newMetric("heartbeats answered 503", float64(paced.refused.Load()+flatOut.refused.Load()), unitCount),
	)
	return append(metrics, costMetrics("flat out: ", "heartbeat", "heartbeats", flatCost, nil)...), nil
}

// windowedHeartbeater is a heartbeater with its measured window.
type windowedHeartbeater struct {
	*heartbeater
	from, to time.Time
}

// heartbeatsFlatOut sends heartbeats flat out for a warm-up and a window of
// Delivery, with no deliveries running, and returns them with what
// PostgreSQL did per heartbeat, from a quiet point before the first to one
// after the last.
func heartbeatsFlatOut(ctx context.Context, e *env, st *stack, client *deviceClient, devs []benchDevice) (*windowedHeartbeater, *cost, error) {
	probe, err := e.newCostProbe(ctx, st.dbURL)
	if err != nil {
		return nil, nil, err
	}
	defer probe.Close()
	mark, err := probe.Mark(ctx)
	if err != nil {
		return nil, nil, err
	}
	h := &windowedHeartbeater{heartbeater: newHeartbeater(client, devs)}
	h.Start(ctx, false)
	steady := &steadyWindow{}
	err = sleep(ctx, e.size.Warmup)
	if err == nil {
		steady.from, err = probe.Published(ctx)
	}
	h.from = time.Now()
	if err == nil {
		err = sleep(ctx, e.size.Delivery)
	}
	h.to = time.Now()
	if err == nil {
		steady.to, err = probe.Published(ctx)
	}
	if err = errors.Join(err, h.Stop()); err != nil {
		return nil, nil, fmt.Errorf("heartbeats flat out: %w", err)
	}
	steady.units, _ = h.Window(h.from, h.to)
	// A heartbeat answered is stored: all of them are done.
	all, _ := h.Window(time.Time{}, time.Now())
	c, _, err := probe.Cost(ctx, mark, all, steady)
	return h, c, err
}
