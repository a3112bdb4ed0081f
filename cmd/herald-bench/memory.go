package main

import (
	"context"
	"errors"
	"fmt"
)

// memoryUnit is the schedule count the memory target is expressed per.
const memoryUnit = 10_000

// runMemory reads the herald process's resident memory idle, then after
// registering each of MemorySteps active schedules in total (jobs with a
// cron that fires once a year, registered through the API in parallel),
// each time after Settle of idling.
func runMemory(ctx context.Context, e *env) (_ []metric, err error) {
	st, err := e.startStack(ctx, 0)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	if err := sleep(ctx, e.size.Settle); err != nil {
		return nil, err
	}
	idle, _, err := residentMemory(st.herald.PID())
	if err != nil {
		return nil, err
	}
	metrics := []metric{newMetric("RSS idle", megabytes(idle), unitMB)}
	body := cronJob("bench-memory", st.receiver.URL(), farFuture)
	registered, rss := 0, idle
	var peak int64
	for _, step := range e.size.MemorySteps {
		_, err := registerJobs(ctx, st.api, body, step-registered)
		var refused *refusedError
		if errors.As(err, &refused) {
			return nil, notAvailable("the API refuses cron schedules: %s", refused.Detail)
		}
		if err != nil {
			return nil, fmt.Errorf("register schedules: %w", err)
		}
		registered = step
		if err := sleep(ctx, e.size.Settle); err != nil {
			return nil, err
		}
		if rss, peak, err = residentMemory(st.herald.PID()); err != nil {
			return nil, err
		}
		metrics = append(metrics, newMetric(fmt.Sprintf("RSS at %d schedules", step), megabytes(rss), unitMB))
	}
	if registered == 0 {
		return metrics, nil
	}
	perUnit := megabytes(rss-idle) / (float64(registered) / memoryUnit)
	return append(metrics,
		newMetric("RSS peak (VmHWM)", megabytes(peak), unitMB),
		newMetric(fmt.Sprintf("beyond idle per %d schedules", memoryUnit), perUnit, unitMB).withTarget(atMost(2, unitMB)),
	), nil
}
