package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// fleetDrain bounds the wait for a fleet run's deliveries: 10,000 devices
// at a few hundred deliveries a second on a loaded machine, and a margin.
const fleetDrain = 3 * time.Minute

// runFleet measures a fleet run (issue 11): PlacementDevices push-mode
// devices, all online, one job whose task targets all of them as a fleet
// in one wave. One trigger; the figures are the trigger's answer (the
// run, its members and the rollout's step, created in the trigger's
// transaction), when the first and the last device received the task, and
// the rate from the first arrival to the last, with its ratio to the
// delivery scenario's single-task runs (DB-fed) when that ran in this
// run.
func runFleet(ctx context.Context, e *env) (_ []metric, err error) {
	n := e.size.PlacementDevices
	st, err := e.startStack(ctx, n+1000, latencyDeviceTimeout)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	devs, err := registerDevices(ctx, st.api, n, func(i int) deviceBody { return pushDevice("fleet", i, st.receiver) })
	if err != nil {
		return nil, fmt.Errorf("register devices: %w", err)
	}
	client := newDeviceClient(st.herald.BaseURL(), heartbeatClients)
	defer client.Close()
	if err := heartbeatAll(ctx, client, devs); err != nil {
		return nil, err
	}
	fleet := &targetBody{Fleet: &fleetBody{Selector: map[string]string{deviceLabel: "fleet"}}, Path: "/update"}
	job, err := st.api.CreateJob(ctx, targetJob("bench-fleet", fleet))
	if err != nil {
		var refused *refusedError
		if errors.As(err, &refused) {
			return nil, notAvailable("the API refuses fleet targets: %s", refused.Detail)
		}
		return nil, fmt.Errorf("register the fleet job: %w", err)
	}
	if err := sleep(ctx, fleetSettle); err != nil {
		return nil, err
	}

	sent := time.Now()
	if _, err := st.api.TriggerRun(ctx, job); err != nil {
		return nil, fmt.Errorf("trigger the fleet run: %w", err)
	}
	created := time.Since(sent)
	deadline := time.Now().Add(fleetDrain)
	for int(st.receiver.Count()) < n && time.Now().Before(deadline) {
		if err := sleep(ctx, arrivalPoll); err != nil {
			return nil, err
		}
	}
	ds := st.receiver.Deliveries()
	seen := map[string]bool{}
	var first, last time.Time
	for _, d := range ds {
		if seen[d.WebhookID] {
			continue
		}
		seen[d.WebhookID] = true
		if first.IsZero() || d.At.Before(first) {
			first = d.At
		}
		if d.At.After(last) {
			last = d.At
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no device received the fleet's task within %s", fleetDrain)
	}
	fleetRate := rate(int64(len(seen)), last.Sub(first))
	metrics := []metric{
		newMetric("devices in the fleet, online", float64(n), unitCount),
		newMetric("trigger answered (run and members created)", float64(created)/float64(time.Millisecond), unitMS),
		newMetric("trigger to first arrival", float64(first.Sub(sent))/float64(time.Millisecond), unitMS),
		newMetric("trigger to last arrival", float64(last.Sub(sent))/float64(time.Millisecond), unitMS),
		newMetric("fleet deliveries, first to last arrival", fleetRate, unitPerSecond).withRatio(e.baselineRate),
		newMetric("devices not reached", float64(n-len(seen)), unitCount),
	}
	if e.deliveryRate > 0 {
		metrics = append(metrics, newMetric("fleet rate / single-task runs' rate (DB-fed)", fleetRate/e.deliveryRate, unitTimes))
	}
	return metrics, nil
}
