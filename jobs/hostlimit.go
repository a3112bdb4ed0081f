package jobs

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// DefaultMaxInFlightPerHost is how many deliveries to one host a process
// makes at once by default, so that one hung device cannot take the
// others' share of the delivery workers.
const DefaultMaxInFlightPerHost = 20

// slotWait is how long a delivery waits in process for a slot of its host
// before it is snoozed: long enough for a burst to a healthy host (many
// ticks in the same instant) to pass through the limit, short enough that
// deliveries to a hung host do not hold workers.
const slotWait = 100 * time.Millisecond

// hostLimiter bounds the deliveries in flight to each target host in this
// process. A delivery over the limit waits a little for a slot, handed over
// in arrival order, then is snoozed (River puts it back without using an
// attempt) instead of holding a worker while it waits.
type hostLimiter struct {
	limit int

	mu    sync.Mutex
	hosts map[string]*hostSlots
}

type hostSlots struct {
	inFlight int
	waiters  []chan struct{}
}

func newHostLimiter(limit int) *hostLimiter {
	return &hostLimiter{limit: limit, hosts: make(map[string]*hostSlots)}
}

// acquire takes a slot for host, waiting up to wait for one; it reports
// false when it got none.
func (l *hostLimiter) acquire(ctx context.Context, host string, wait time.Duration) bool {
	l.mu.Lock()
	h := l.hosts[host]
	if h == nil {
		h = &hostSlots{}
		l.hosts[host] = h
	}
	if h.inFlight < l.limit {
		h.inFlight++
		l.mu.Unlock()
		return true
	}
	if wait <= 0 {
		l.mu.Unlock()
		return false
	}
	ready := make(chan struct{}, 1)
	h.waiters = append(h.waiters, ready)
	l.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ready:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := slices.Index(h.waiters, ready); i >= 0 {
		h.waiters = slices.Delete(h.waiters, i, i+1)
		return false
	}
	return true // handed a slot while giving up: keep it
}

// release gives back a slot taken by acquire, to the longest waiter if any.
func (l *hostLimiter) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hosts[host]
	if h == nil {
		return
	}
	if len(h.waiters) > 0 {
		h.waiters[0] <- struct{}{}
		h.waiters = h.waiters[1:]
		return
	}
	h.inFlight--
	if h.inFlight <= 0 {
		delete(l.hosts, host)
	}
}

// waitForSlot is how long a delivery over its host's limit is snoozed: it
// grows with the times it was snoozed already (100ms, 200ms, ... up to 5s),
// with jitter, so that deliveries queued for a hung host cost little.
func waitForSlot(metadata []byte) time.Duration {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(metadata, &m)
	d := 100 * time.Millisecond << min(m.Snoozes, 6)
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d/2+1)
}
