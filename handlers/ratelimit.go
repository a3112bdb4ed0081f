package handlers

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// Default limits of inbound calls per job, per replica (APIConfig).
const (
	DefaultInboundRate  = 10.0 // calls per second
	DefaultInboundBurst = 20
)

// maxBuckets bounds the buckets a limiter keeps; past it, the buckets that
// are full again (idle long enough) are dropped.
const maxBuckets = 10_000

// jobLimiter is a token bucket per job, in this process's memory: each
// replica admits up to rate calls per second per job (burst at once), so a
// deployment of N replicas behind a balancer admits up to N times that. It
// is lost with the process, which is fine for a limit whose purpose is to
// keep one sender from flooding herald.
type jobLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[uuid.UUID]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newJobLimiter(rate float64, burst int, now func() time.Time) *jobLimiter {
	return &jobLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[uuid.UUID]*bucket{}}
}

// allow takes a token of job's bucket; when there is none it returns how
// long until there is one.
func (l *jobLimiter) allow(job uuid.UUID) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[job]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.dropFull(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[job] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// dropFull forgets the buckets that have refilled: they would admit a
// burst anyway.
func (l *jobLimiter) dropFull(now time.Time) {
	for id, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, id)
		}
	}
}
