package main

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"time"
)

const (
	// triggerClients send the paced triggers: enough that one slow answer
	// does not hold the next trigger back.
	triggerClients = 8
	// arrivalDrain is how long after the last trigger its task may still
	// arrive; a later one counts as lost.
	arrivalDrain = 5 * time.Second
	// arrivalPoll is how often the wait for the last arrivals looks.
	arrivalPoll = 10 * time.Millisecond
)

// triggered is a run the benchmark started.
type triggered struct {
	// at is when its trigger was sent.
	at time.Time
	// kind is the index of the kind of job it is a run of (pool or URL).
	kind int
}

// pacedTriggers triggers runs at perSecond, open loop (the i-th at
// begin + i/perSecond, whatever the answers before), for d, and returns
// when each run's trigger was sent, by run id. job(i) is the job of the
// i-th trigger and its kind.
func pacedTriggers(ctx context.Context, api *apiClient, perSecond float64, d time.Duration, job func(i int) (string, int)) (map[string]triggered, error) {
	n := int(perSecond * d.Seconds())
	begin := time.Now()
	var next atomic.Int64
	sent := make([]map[string]triggered, triggerClients)
	err := parallel(ctx, triggerClients, func(ctx context.Context, w int) error {
		sent[w] = map[string]triggered{}
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return nil
			}
			if err := waitUntil(ctx, begin.Add(time.Duration(float64(i)/perSecond*float64(time.Second)))); err != nil {
				return err
			}
			jobID, kind := job(i)
			at := time.Now()
			runID, err := api.TriggerRun(ctx, jobID)
			if err != nil {
				return fmt.Errorf("trigger: %w", err)
			}
			sent[w][runID] = triggered{at: at, kind: kind}
		}
	})
	all := make(map[string]triggered, n)
	for _, m := range sent {
		maps.Copy(all, m)
	}
	return all, err
}

// waitForArrivals waits until arrived reports every run of runs arrived,
// or arrivalDrain has passed.
func waitForArrivals(ctx context.Context, runs map[string]triggered, arrived func() int) error {
	deadline := time.Now().Add(arrivalDrain)
	for arrived() < len(runs) && time.Now().Before(deadline) {
		if err := sleep(ctx, arrivalPoll); err != nil {
			return err
		}
	}
	return nil
}

// triggerLatencies splits the arrivals of runs triggered at or after from
// by kind: arrival minus trigger, sorted, and how many never arrived.
// arrivals holds each run's first arrival.
func triggerLatencies(runs map[string]triggered, arrivals map[string]time.Time, from time.Time, kinds int) ([]latencies, []int) {
	lat := make([]latencies, kinds)
	lost := make([]int, kinds)
	for run, t := range runs {
		if t.at.Before(from) {
			continue
		}
		got, ok := arrivals[run]
		if !ok {
			lost[t.kind]++
			continue
		}
		lat[t.kind] = append(lat[t.kind], got.Sub(t.at))
	}
	for _, l := range lat {
		l.sorted()
	}
	return lat, lost
}

// firstArrivals returns each run's first arrival at the receiver.
func firstArrivals(ds []delivery) map[string]time.Time {
	out := make(map[string]time.Time, len(ds))
	for _, d := range ds {
		if _, ok := out[d.Run]; !ok {
			out[d.Run] = d.At
		}
	}
	return out
}
