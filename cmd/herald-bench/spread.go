package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// spreadEvery is the period of the spread scenario's schedules, in seconds.
const spreadEvery = 10

// runSpread is fire lateness with many more active schedules than fire in
// any one second: SpreadJobs schedules firing every spreadEvery seconds, a
// tenth of them at each second ("3/10 * * * * *" fires at seconds 3, 13,
// ...). Over SpreadSeconds whole seconds it measures, as the lateness
// scenario does, arrival minus Herald-Scheduled-For and missed or doubled
// ticks.
func runSpread(ctx context.Context, e *env) (_ []metric, err error) {
	k, n := e.size.SpreadJobs, e.size.SpreadSeconds
	perPhase := k / spreadEvery
	st, err := e.startStack(ctx, perPhase*(n+30))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	// jobs[j] fires at the seconds whose Unix time is j modulo spreadEvery.
	jobs := make([]string, perPhase*spreadEvery)
	for phase := range spreadEvery {
		cron := fmt.Sprintf("%d/%d * * * * *", phase, spreadEvery)
		ids, err := registerJobs(ctx, st.api, cronJob("bench-spread", st.receiver.URL(), cron), perPhase)
		var refused *refusedError
		if errors.As(err, &refused) {
			return nil, notAvailable("the API refuses cron schedules with seconds: %s", refused.Detail)
		}
		if err != nil {
			return nil, fmt.Errorf("register schedules: %w", err)
		}
		for i, id := range ids {
			jobs[i*spreadEvery+phase] = id
		}
	}
	from := time.Now().Add(latenessMargin).Truncate(time.Second).Add(time.Second)
	window := time.Duration(n) * time.Second
	if err := waitUntil(ctx, from.Add(window+latenessDrain)); err != nil {
		return nil, err
	}
	rep := analyzeTicks(st.receiver.Deliveries(), jobs, from, n, spreadEvery)
	if rep.Unreadable > 0 {
		return nil, fmt.Errorf("%d deliveries had no readable Herald-Scheduled-For", rep.Unreadable)
	}
	return []metric{
		newMetric("active schedules", float64(len(jobs)), unitCount),
		newMetric("firing each second", float64(perPhase), unitCount),
		newMetric("ticks measured", float64(rep.Expected), unitCount),
		newMetric("lateness p50", rep.Lateness.quantile(0.50), unitMS),
		newMetric("lateness p99", rep.Lateness.quantile(0.99), unitMS),
		newMetric("lateness p99.9", rep.Lateness.quantile(0.999), unitMS),
		newMetric("lateness max", rep.Lateness.max(), unitMS),
		newMetric("missed ticks", float64(rep.Missed), unitCount).withTarget(atMost(0, unitCount)),
		newMetric("doubled ticks", float64(rep.Doubled), unitCount).withTarget(atMost(0, unitCount)),
		newMetric("burst start p50 (a second's earliest arrival)", rep.BurstStarts.quantile(0.50), unitMS),
		newMetric("burst start max", rep.BurstStarts.max(), unitMS),
		newMetric(fmt.Sprintf("seconds starting ≥ %d ms after the median start", lateStart.Milliseconds()), float64(rep.lateStarts()), unitCount),
	}, nil
}
