package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

const (
	// latenessMargin separates the end of registration from the first
	// measured second, so that every job's first tick is armed by then.
	latenessMargin = time.Second
	// latenessDrain is how long after the last measured second deliveries
	// may still arrive; a later one counts as missed.
	latenessDrain = 2 * time.Second
)

// runLateness registers FireJobs schedules firing every second and measures,
// over FireSeconds whole seconds, when each tick reaches the receiver
// relative to its nominal time, and whether each tick arrived exactly once.
// Before herald starts, it measures the machine's burst floor (burstFloor)
// for the same number of requests in the same instant.
func runLateness(ctx context.Context, e *env) (_ []metric, err error) {
	k, n := e.size.FireJobs, e.size.FireSeconds
	floor, err := burstFloor(ctx, e, k)
	if err != nil {
		return nil, err
	}
	st, err := e.startStack(ctx, k*(n+10))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	jobs, err := registerJobs(ctx, st.api, cronJob("bench-lateness", st.receiver.URL(), everySecond), k)
	var refused *refusedError
	if errors.As(err, &refused) {
		return nil, notAvailable("the API refuses cron schedules with seconds: %s", refused.Detail)
	}
	if err != nil {
		return nil, fmt.Errorf("register schedules: %w", err)
	}
	from := time.Now().Add(latenessMargin).Truncate(time.Second).Add(time.Second)
	window := time.Duration(n) * time.Second
	e.logger.DebugContext(ctx, "lateness window", "from", from, "seconds", n)
	if err := waitUntil(ctx, from.Add(window+latenessDrain)); err != nil {
		return nil, err
	}
	rep := analyzeTicks(st.receiver.Deliveries(), jobs, from, n, 1)
	if rep.Unreadable > 0 {
		return nil, fmt.Errorf("%d deliveries had no readable Herald-Scheduled-For", rep.Unreadable)
	}
	return []metric{
		newMetric("schedules", float64(k), unitCount),
		newMetric("ticks measured", float64(rep.Expected), unitCount),
		newMetric("lateness p50", rep.Lateness.quantile(0.50), unitMS),
		newMetric("lateness p99", rep.Lateness.quantile(0.99), unitMS).withTarget(atMost(20, unitMS)),
		newMetric("lateness p99.9", rep.Lateness.quantile(0.999), unitMS).withTarget(atMost(50, unitMS)),
		newMetric("lateness max", rep.Lateness.max(), unitMS),
		newMetric("missed ticks", float64(rep.Missed), unitCount).withTarget(atMost(0, unitCount)),
		newMetric("doubled ticks", float64(rep.Doubled), unitCount).withTarget(atMost(0, unitCount)),
		newMetric("burst start p50 (a second's earliest arrival)", rep.BurstStarts.quantile(0.50), unitMS),
		newMetric("burst start max", rep.BurstStarts.max(), unitMS),
		newMetric(fmt.Sprintf("seconds starting ≥ %d ms after the median start", lateStart.Milliseconds()), float64(rep.lateStarts()), unitCount),
		newMetric("burst floor p50", floor.quantile(0.50), unitMS),
		newMetric("burst floor p99", floor.quantile(0.99), unitMS),
		newMetric("burst floor p99.9", floor.quantile(0.999), unitMS),
		newMetric("burst floor max", floor.max(), unitMS),
	}, nil
}
