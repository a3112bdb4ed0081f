package jobs

import (
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultMaxInFlightPerHost is how many deliveries to one host a process
// makes at once by default: a fifth of the default 100 delivery workers, so
// that one hung device cannot take the others' share.
const DefaultMaxInFlightPerHost = 20

// hostLimiter bounds the deliveries in flight to each target host in this
// process. A delivery over the limit is snoozed (River puts it back without
// using an attempt) instead of holding a worker while it waits.
type hostLimiter struct {
	limit int

	mu       sync.Mutex
	inFlight map[string]int
}

func newHostLimiter(limit int) *hostLimiter {
	return &hostLimiter{limit: limit, inFlight: make(map[string]int)}
}

// acquire takes a slot for host, or reports false when it has none free.
func (l *hostLimiter) acquire(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[host] >= l.limit {
		return false
	}
	l.inFlight[host]++
	return true
}

// release gives back a slot taken by acquire.
func (l *hostLimiter) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[host] <= 1 {
		delete(l.inFlight, host)
		return
	}
	l.inFlight[host]--
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
