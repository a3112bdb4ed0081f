package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/store"
)

// Circuit defaults.
const (
	// DefaultCircuitThreshold is how many consecutive failed deliveries to a
	// host open its circuit.
	DefaultCircuitThreshold = 5
	// DefaultProbeInterval is how often an open circuit lets one delivery
	// through as a probe.
	DefaultProbeInterval = 30 * time.Second
	// DefaultParkDeadline is how long a delivery may stay parked behind an
	// open circuit; past it, it is attempted (and fails) as usual.
	DefaultParkDeadline = time.Hour

	// circuitCacheTTL is how long a process trusts what it read of a host's
	// circuit: deliveries to healthy hosts read the table once a second per
	// host, and write to it only after a failure.
	circuitCacheTTL = time.Second
	// maxPark is the longest single snooze of a parked delivery: below
	// River's 5 s scheduler pass, so that it wakes on time.
	maxPark = 5 * time.Second
)

// circuits is endpoint health: a circuit per target host, shared by all
// replicas through the endpoints table. After threshold consecutive failures
// (network errors, timeouts, 408, 425, 429, 5xx) the circuit opens: deliveries
// to the host are parked (snoozed, no attempt used) and one probe per probe
// interval goes through; the first success closes the circuit, and parked
// deliveries resume.
type circuits struct {
	pool          *pgxpool.Pool
	threshold     int
	probeInterval time.Duration
	parkDeadline  time.Duration
	// now is the clock of the cache and of parking; nil is time.Now. The
	// probe times themselves are the database's.
	now func() time.Time

	mu    sync.Mutex
	cache map[string]circuitState
	// reading holds the reads of hosts' circuits in progress: one read per
	// host at a time, whatever the number of deliveries to it.
	reading map[string]*circuitRead
	// reads counts the reads of the endpoints table (tests).
	reads atomic.Int64
}

// circuitRead is a read of a host's circuit in progress; done closes when
// st and err are set.
type circuitRead struct {
	done chan struct{}
	st   circuitState
	err  error
}

type circuitState struct {
	open      bool
	failures  int32
	nextProbe time.Time
	read      time.Time
}

func (c *circuits) enabled() bool { return c != nil && c.threshold > 0 }

func (c *circuits) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// state returns what is known of host's circuit, read at most
// circuitCacheTTL ago. Once that has passed, one delivery reads it again
// while the others to the same host go on with what was known (or, when
// nothing was, wait for that read): deliveries to a healthy host cost one
// statement per second per process, not one per delivery in flight when
// the cache expires.
func (c *circuits) state(ctx context.Context, host string) (circuitState, error) {
	c.mu.Lock()
	st, ok := c.cache[host]
	if ok && c.clock().Sub(st.read) < circuitCacheTTL {
		c.mu.Unlock()
		return st, nil
	}
	if r, busy := c.reading[host]; busy {
		c.mu.Unlock()
		if ok {
			return st, nil // known a second ago: good enough until the read is in
		}
		select {
		case <-r.done:
			if r.err != nil && ctx.Err() == nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) {
				return c.state(ctx, host) // the reader's delivery ended, not the database: read again
			}
			return r.st, r.err
		case <-ctx.Done():
			return circuitState{}, ctx.Err()
		}
	}
	r := &circuitRead{done: make(chan struct{})}
	if c.reading == nil {
		c.reading = make(map[string]*circuitRead)
	}
	c.reading[host] = r
	c.mu.Unlock()

	r.st, r.err = c.read(ctx, host)
	if r.err == nil {
		c.remember(host, r.st)
	}
	c.mu.Lock()
	delete(c.reading, host)
	c.mu.Unlock()
	close(r.done)
	return r.st, r.err
}

// read reads host's circuit from the endpoints table.
func (c *circuits) read(ctx context.Context, host string) (circuitState, error) {
	c.reads.Add(1)
	ep, err := store.New(c.pool).GetEndpoint(ctx, host)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return circuitState{read: c.clock()}, nil
	case err != nil:
		return circuitState{}, fmt.Errorf("read circuit of %s: %w", host, err)
	}
	return fromEndpoint(&ep, c.clock()), nil
}

func fromEndpoint(ep *store.Endpoint, read time.Time) circuitState {
	st := circuitState{open: ep.State == "open", failures: ep.ConsecutiveFailures, read: read}
	if ep.NextProbeAt != nil {
		st.nextProbe = *ep.NextProbeAt
	}
	return st
}

func (c *circuits) remember(host string, st circuitState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil || len(c.cache) > 100_000 {
		c.cache = make(map[string]circuitState)
	}
	c.cache[host] = st
}

// gate says how long a delivery to host must stay parked; zero lets it go,
// as a normal delivery (circuit closed), as the probe of an open circuit,
// or because it has been parked past the deadline (parkedSince is when its
// delivery job was created).
func (c *circuits) gate(ctx context.Context, host string, parkedSince time.Time) (time.Duration, error) {
	if !c.enabled() || host == "" { // "": a device target, gated once placed
		return 0, nil
	}
	st, err := c.state(ctx, host)
	if err != nil || !st.open || c.clock().Sub(parkedSince) > c.parkDeadline {
		return 0, err
	}
	if wait := st.nextProbe.Sub(c.clock()); wait > 0 {
		return min(wait, maxPark) + rand.N(100*time.Millisecond), nil
	}
	_, err = store.New(c.pool).ClaimProbe(ctx, store.ClaimProbeParams{Host: host, ProbeSeconds: c.probeInterval.Seconds()})
	switch {
	case err == nil:
		return 0, nil // this delivery is the probe
	case errors.Is(err, pgx.ErrNoRows):
		c.forget(host) // another delivery probes: read the new probe time
		return min(c.probeInterval, maxPark), nil
	default:
		return 0, fmt.Errorf("claim probe of %s: %w", host, err)
	}
}

func (c *circuits) forget(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, host)
}

// record counts an attempt's outcome against host's circuit: a failure that
// says the device is unreachable or unwell counts; any answer otherwise
// (2xx, other 4xx) shows it alive and closes the circuit. A request that was
// not sent (Invalid: the task's fault) says nothing of the host.
func (c *circuits) record(ctx context.Context, host string, res *dispatch.Result, errText string) error {
	if !c.enabled() || res.Outcome == dispatch.Invalid {
		return nil
	}
	q := store.New(c.pool)
	if res.Outcome == dispatch.Retryable {
		ep, err := q.EndpointFailed(ctx, store.EndpointFailedParams{
			Host: host, LastError: &errText, Threshold: int32(c.threshold), ProbeSeconds: c.probeInterval.Seconds(),
		})
		if err != nil {
			return fmt.Errorf("record failure of %s: %w", host, err)
		}
		c.remember(host, fromEndpoint(&ep, c.clock()))
		return nil
	}
	if res.StatusCode == 0 {
		return nil // refused before sending (SSRF guard, bad URL): says nothing of the device
	}
	st, err := c.state(ctx, host)
	if err != nil || (!st.open && st.failures == 0) {
		return err
	}
	if err := q.EndpointSucceeded(ctx, host); err != nil {
		return fmt.Errorf("record success of %s: %w", host, err)
	}
	c.remember(host, circuitState{read: c.clock()})
	return nil
}
