package jobs

import (
	"runtime/debug"
	"sync"
	"time"
)

const (
	// BurstQuietMin is how many staged deliveries of one instant make a
	// burst during whose sends the garbage collector pauses (gcQuiet).
	BurstQuietMin = 100
	// burstQuietLead is how long before its instant a burst's pause
	// begins.
	burstQuietLead = 10 * time.Millisecond
)

// gcQuiet pauses Go's garbage collector while a burst of staged deliveries
// is sent: a thousand ticks of one second are sent in the same instant, and
// a collection that starts among them (their requests allocate, and the
// process's heap is small) takes one of the two cores for its marking and
// makes the goroutines that allocate assist it, so the last requests of the
// burst go out later: lateness p99 10-18 ms higher in herald-bench -size
// full -only lateness (BENCHMARKS.md). A pause begins burstQuietLead before
// the instant and ends when every delivery of the instant has been sent or
// InstantRecordWait after it, whichever comes first; the collector then
// resumes with the percentage it had, and collects what the burst left.
// The heap grows meanwhile by what the burst allocates (tens of megabytes
// for a thousand deliveries), for at most burstQuietLead +
// InstantRecordWait; a memory limit (GOMEMLIMIT) still makes the collector
// run when the heap reaches it. Overlapping pauses nest.
//
// The collector's setting is the process's, so there is one gcQuiet per
// process (processGCQuiet), whatever the number of clients in it.
type gcQuiet struct {
	// set sets the collector's percentage and returns the previous one
	// (debug.SetGCPercent).
	set func(int) int

	mu     sync.Mutex
	paused int // pauses begun and not ended
	prev   int // the percentage before the first of them
}

// processGCQuiet is the process's gcQuiet.
var processGCQuiet = &gcQuiet{set: debug.SetGCPercent}

// begin pauses the collector, until the matching end.
func (q *gcQuiet) begin() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.paused == 0 {
		q.prev = q.set(-1)
	}
	q.paused++
}

// end ends a pause begun by begin; the collector resumes when no other
// pause is left.
func (q *gcQuiet) end() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.paused--; q.paused == 0 {
		q.set(q.prev)
	}
}
