package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

const (
	// deliveryJobs is how many jobs the delivery scenario runs, in turn:
	// many, as many devices would be, so that runs of one job do not
	// contend on its row.
	deliveryJobs = 1_000
	// apiFeedClients trigger runs through the API at once.
	apiFeedClients = 16
	// dbFeedClients start runs in the database at once.
	dbFeedClients = 8
	// deliveryBacklog bounds the runs started but not yet delivered.
	deliveryBacklog = 2_000
	// expectedDeliveryRate sizes the receiver's preallocated record.
	expectedDeliveryRate = 5_000
	// drainTimeout bounds the wait for the runs started to be delivered.
	drainTimeout = time.Minute
)

// deliveryWindow is what one feed of the delivery scenario measured.
type deliveryWindow struct {
	deliveries, started float64 // per second
	backlog             int64   // started, not delivered, at the window's end
	// from and to bound the window.
	from, to time.Time
	// cost is what PostgreSQL did per delivery in the window; nil when
	// not probed.
	cost *cost
	// cpuFrom and cpuTo are the CPU used by the end of the warm-up and of
	// the window, when the run reads it.
	cpuFrom, cpuTo cpuUse
}

// runDelivery measures herald delivering single-task runs to the receiver,
// every attempt recorded as in production, in two windows on one herald:
// fed through the API (POST /v1/jobs/{id}/runs, one request per run: the
// end-to-end rate), then fed in the database (jobs.StartRun, as the API
// does, in batches: the delivery pipeline's own rate, fed as the baseline
// feeds River). The target applies to both.
func runDelivery(ctx context.Context, e *env) (_ []metric, err error) {
	seconds := 2*(e.size.Warmup+e.size.Delivery).Seconds() + 5
	st, err := e.startStack(ctx, int(seconds*expectedDeliveryRate))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	jobIDs, err := registerJobs(ctx, st.api, webhookJob("bench-delivery", st.receiver.URL(), nil), deliveryJobs)
	if err != nil {
		return nil, fmt.Errorf("register jobs: %w", err)
	}
	probe, err := e.newCostProbe(ctx, st.dbURL)
	if err != nil {
		return nil, err
	}
	defer probe.Close()
	d := &deliveryRun{size: e.size, receiver: st.receiver, probe: probe, readCPU: func() (cpuUse, error) {
		return readCPU(ctx, e.db, st.dbURL, st.herald.PID())
	}}
	viaAPI, err := d.measure(ctx, newAPIFeed(st.api, jobIDs), apiFeedClients)
	if err != nil {
		return nil, fmt.Errorf("fed through the API: %w", err)
	}
	feed, err := newDBFeed(ctx, st.dbURL, jobIDs)
	if err != nil {
		return nil, err
	}
	defer feed.Close()
	viaDB, err := d.measure(ctx, feed, dbFeedClients)
	if err != nil {
		return nil, fmt.Errorf("fed in the database: %w", err)
	}
	e.deliveryRate = viaDB.deliveries
	metrics := []metric{
		newMetric("deliveries, API-fed", viaAPI.deliveries, unitPerSecond).withRatio(e.baselineRate).withTarget(ratioAtLeast(0.5)),
		newMetric("runs triggered via API", viaAPI.started, unitPerSecond),
		// Near deliveryBacklog, delivering was the bottleneck; near 0, feeding.
		newMetric("backlog at end, API-fed", float64(viaAPI.backlog), unitCount),
		newMetric("deliveries, DB-fed", viaDB.deliveries, unitPerSecond).withRatio(e.baselineRate).withTarget(ratioAtLeast(0.5)),
		newMetric("runs started in DB", viaDB.started, unitPerSecond),
		newMetric("backlog at end, DB-fed", float64(viaDB.backlog), unitCount),
	}
	metrics = append(metrics, cpuMetrics("API-fed: ", "delivery", "herald", true, viaAPI)...)
	metrics = append(metrics, costMetrics("API-fed: ", "delivery", "deliveries", viaAPI.cost, e.baselineCost)...)
	metrics = append(metrics, cpuMetrics("DB-fed: ", "delivery", "herald", true, viaDB)...)
	return append(metrics, costMetrics("DB-fed: ", "delivery", "deliveries", viaDB.cost, e.baselineCost)...), nil
}

// cpuMetrics returns the CPU the window's processes used per unit of work
// (in milliseconds) and in cores: self (herald, or River in the baseline), the
// PostgreSQL backends of the scenario's database (when they are local
// processes) and, when bench is true, the bench (the receiver and the feed;
// the baseline's River runs in the bench's process). Which of them nears
// the machine's cores says what bounds the window.
func cpuMetrics(label, unit, self string, bench bool, w deliveryWindow) []metric {
	if w.cpuTo.at.IsZero() {
		return nil
	}
	selfCores, benchCores, db := cores(w.cpuFrom, w.cpuTo)
	add := func(out []metric, who string, cores float64) []metric {
		return append(out,
			newMetric(fmt.Sprintf("%sCPU per %s: %s", label, unit, who), 1000*cores/w.deliveries, unitMS),
			newMetric(fmt.Sprintf("%sCPU cores: %s", label, who), cores, unitAverage))
	}
	out := add(nil, self, selfCores)
	if !math.IsNaN(db) {
		out = add(out, "PostgreSQL backends", db)
	}
	if bench {
		out = add(out, "bench (receiver, feed)", benchCores)
	}
	return out
}

// deliveryRun counts the runs started across the scenario's windows.
type deliveryRun struct {
	size     size
	receiver *receiver
	started  atomic.Int64
	// probe, when set, measures what PostgreSQL does per delivery, from
	// mark, a quiet point, to the next (after the last delivery of the
	// window), which becomes the next window's mark.
	probe *costProbe
	mark  *costMark
	// readCPU, when set, reads the CPU used at both ends of each window.
	readCPU func() (cpuUse, error)
}

// measure feeds runs from clients goroutines, keeping at most
// deliveryBacklog undelivered, and measures a window after the warm-up;
// with a probe, also what PostgreSQL did per delivery, from a quiet point
// before the feed to one after every run it started was delivered.
func (d *deliveryRun) measure(ctx context.Context, feed runFeed, clients int) (deliveryWindow, error) {
	var err error
	if d.probe != nil && d.mark == nil {
		if d.mark, err = d.probe.Mark(ctx); err != nil {
			return deliveryWindow{}, err
		}
	}
	marked := d.receiver.Count()
	l := startLoad(ctx, clients, func(ctx context.Context, _ int) error {
		if d.started.Load()-d.receiver.Count() >= deliveryBacklog {
			return sleep(ctx, backlogPause)
		}
		n, err := feed.start(ctx)
		d.started.Add(n)
		return err
	})
	if err := l.Run(ctx, d.size.Warmup); err != nil {
		return deliveryWindow{}, err
	}
	steady := &steadyWindow{}
	if d.probe != nil {
		if steady.from, err = d.probe.Published(ctx); err != nil {
			return deliveryWindow{}, errors.Join(err, l.Stop())
		}
	}
	var cpuFrom, cpuTo cpuUse
	if d.readCPU != nil {
		if cpuFrom, err = d.readCPU(); err != nil {
			return deliveryWindow{}, errors.Join(err, l.Stop())
		}
	}
	d0, s0, t0 := d.receiver.Count(), d.started.Load(), time.Now()
	if err := l.Run(ctx, d.size.Delivery); err != nil {
		return deliveryWindow{}, err
	}
	d1, s1, t1 := d.receiver.Count(), d.started.Load(), time.Now()
	if d.readCPU != nil {
		if cpuTo, err = d.readCPU(); err != nil {
			return deliveryWindow{}, errors.Join(err, l.Stop())
		}
	}
	if d.probe != nil {
		if steady.to, err = d.probe.Published(ctx); err != nil {
			return deliveryWindow{}, errors.Join(err, l.Stop())
		}
		steady.units = d1 - d0
	}
	if err := l.Stop(); err != nil {
		return deliveryWindow{}, err
	}
	w := deliveryWindow{
		deliveries: rate(d1-d0, t1.Sub(t0)),
		started:    rate(s1-s0, t1.Sub(t0)),
		backlog:    s1 - d1,
		from:       t0,
		to:         t1,
		cpuFrom:    cpuFrom,
		cpuTo:      cpuTo,
	}
	if d.probe == nil {
		return w, nil
	}
	if err := waitForDeliveries(ctx, d.receiver, d.started.Load(), drainTimeout); err != nil {
		return deliveryWindow{}, err
	}
	w.cost, d.mark, err = d.probe.Cost(ctx, d.mark, d.receiver.Count()-marked, steady)
	return w, err
}
