package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

const (
	// dagPollInterval is how often the DAG scenario checks for its end.
	dagPollInterval = 5 * time.Millisecond
	// dagMinTimeout and dagTaskTimeout bound the wait for a DAG run:
	// at least a minute, plus this much per task.
	dagMinTimeout  = time.Minute
	dagTaskTimeout = 20 * time.Millisecond
)

// runDAG registers one DAG job (root → a wide layer → join → chain),
// triggers one run and waits for every task to reach the receiver. A herald
// that refuses the job (422: DAG workflows not available) skips the scenario.
func runDAG(ctx context.Context, e *env) (_ []metric, err error) {
	shape, err := newDAGShape(e.size.DAGTasks, e.size.DAGChain)
	if err != nil {
		return nil, err
	}
	st, err := e.startStack(ctx, shape.Tasks()+shape.Tasks()/10)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	regBegin := time.Now()
	jobID, err := st.api.CreateJob(ctx, shape.Job(st.receiver.URL()))
	var refused *refusedError
	if errors.As(err, &refused) {
		return nil, notAvailable("the API refuses multi-task jobs (with %s=%d): %s", maxTasksEnv, maxTasksLimit, refused.Detail)
	}
	if err != nil {
		return nil, fmt.Errorf("register the DAG: %w", err)
	}
	registration := time.Since(regBegin)

	begin := time.Now()
	runID, err := st.api.TriggerRun(ctx, jobID)
	if err != nil {
		return nil, fmt.Errorf("trigger the DAG: %w", err)
	}
	timeout := dagMinTimeout + time.Duration(shape.Tasks())*dagTaskTimeout
	if err := waitForDeliveries(ctx, st.receiver, int64(shape.Tasks()), timeout); err != nil {
		return nil, err
	}
	run, err := dagTimeline(st.receiver.Deliveries(), runID, shape)
	if err != nil {
		return nil, err
	}
	total := run.end.Sub(begin)
	return []metric{
		newMetric("DAG size (tasks)", float64(shape.Tasks()), unitCount),
		newMetric("registration", registration.Seconds(), unitSeconds),
		newMetric("run total", total.Seconds(), unitSeconds),
		newMetric("tasks", rate(int64(shape.Tasks()), total), unitPerSecond).withRatio(e.baselineRate).withTarget(ratioAtLeast(0.5)),
		newMetric("chain hop p50", run.hops.quantile(0.50), unitMS),
		newMetric("chain hop p99", run.hops.quantile(0.99), unitMS).withTarget(atMost(10, unitMS)),
		newMetric("chain hop max", run.hops.max(), unitMS).withParts(run.slowHops),
		newMetric("fan-in hop", milliseconds(run.fanIn), unitMS),
		newMetric("fan-out spread", milliseconds(run.fanOut), unitMS),
	}, nil
}

// waitForDeliveries waits until rc has received n requests, for at most timeout.
func waitForDeliveries(ctx context.Context, rc *receiver, n int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for rc.Count() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d tasks delivered after %s", rc.Count(), n, timeout)
		}
		if err := sleep(ctx, dagPollInterval); err != nil {
			return err
		}
	}
	return nil
}

// dagRun is the timeline of one DAG run, from each task's first delivery.
type dagRun struct {
	// end is when the last task's response was written.
	end time.Time
	// hops is, for each chain task, its arrival minus its parent's
	// response (join's, for the first), sorted.
	hops latencies
	// slowHops are the slowest chain hops, named by their task (c0 is the
	// first after join), in ms, slowest first: where in the chain the tail
	// falls (right after the wide layer, or anywhere).
	slowHops []part
	// fanIn is join's arrival minus the last wide task's response.
	fanIn time.Duration
	// fanOut is the last wide task's arrival minus root's response.
	fanOut time.Duration
}

// dagTimeline builds the timeline of run runID of shape from the receiver's
// record; every task must have been delivered.
func dagTimeline(ds []delivery, runID string, shape dagShape) (dagRun, error) {
	first := make(map[string]*delivery, shape.Tasks())
	var out dagRun
	for i := range ds {
		d := &ds[i]
		if d.Run != runID {
			continue
		}
		if _, seen := first[d.Task]; !seen {
			first[d.Task] = d
		}
		if d.Done.After(out.end) {
			out.end = d.Done
		}
	}
	if len(first) != shape.Tasks() {
		return dagRun{}, fmt.Errorf("run %s: %d distinct tasks delivered, want %d", runID, len(first), shape.Tasks())
	}
	var lastWideDone, lastWideAt time.Time
	for i := range shape.wide {
		d := first[wideID(i)]
		lastWideDone = latest(lastWideDone, d.Done)
		lastWideAt = latest(lastWideAt, d.At)
	}
	out.fanIn = first[dagJoin].At.Sub(lastWideDone)
	out.fanOut = lastWideAt.Sub(first[dagRoot].Done)
	parent := first[dagJoin]
	for i := range shape.chain {
		d := first[chainID(i)]
		hop := d.At.Sub(parent.Done)
		out.hops = append(out.hops, hop)
		out.slowHops = append(out.slowHops, part{Name: chainID(i), Value: milliseconds(hop)})
		parent = d
	}
	out.hops.sorted()
	out.slowHops = topParts(out.slowHops)
	return out, nil
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
