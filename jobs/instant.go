package jobs

import (
	"context"
	"sync"
	"time"
)

// InstantRecordWait bounds how long after its nominal time a staged
// delivery's record waits for the other deliveries of the same instant to
// be sent (instants).
const InstantRecordWait = 200 * time.Millisecond

// instants counts, per nominal time, the staged deliveries of this process
// that have not been sent yet. A thousand ticks of one second are sent in
// the same instant; writing the records of the first answers while the rest
// are still being sent puts PostgreSQL's work on the same two cores as the
// sends and spreads the burst (lateness p99 about 25 ms higher in
// herald-bench -size full -only lateness). So a staged delivery's record
// waits until every delivery of its instant has been sent, or
// InstantRecordWait past the instant, whichever comes first. A lone tick
// waits for nothing. Only the record waits: the request was sent on time,
// and a process that dies meanwhile has its delivery reclaimed and sent
// again with the same webhook-id, as for any delivery not yet recorded.
//
// An instant of at least BurstQuietMin deliveries also pauses the garbage
// collector while it is sent (gcQuiet).
type instants struct {
	// quiet pauses the collector for bursts; nil for none.
	quiet *gcQuiet

	mu      sync.Mutex
	pending map[int64]*instant
}

type instant struct {
	unsent int
	sent   chan struct{} // closed when unsent falls to zero
	quiet  bool          // a pause of the collector is planned for it
}

// enter counts a staged delivery for nominal time t, now being the time by
// the same clock; call the returned function once it has been sent or
// given up (it may be called more than once).
func (s *instants) enter(t, now time.Time) (sent func()) {
	key := t.UnixNano()
	s.mu.Lock()
	if s.pending == nil {
		s.pending = make(map[int64]*instant)
	}
	in := s.pending[key]
	if in == nil {
		in = &instant{sent: make(chan struct{})}
		s.pending[key] = in
	}
	in.unsent++
	if s.quiet != nil && !in.quiet && in.unsent >= BurstQuietMin {
		in.quiet = true
		s.planQuiet(in, t, now)
	}
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if in.unsent--; in.unsent == 0 {
				close(in.sent)
				delete(s.pending, key)
			}
		})
	}
}

// planQuiet pauses the collector from burstQuietLead before t until every
// delivery of in has been sent, or InstantRecordWait after t.
func (s *instants) planQuiet(in *instant, t, now time.Time) {
	time.AfterFunc(max(t.Add(-burstQuietLead).Sub(now), 0), func() {
		s.quiet.begin()
		limit := time.NewTimer(burstQuietLead + InstantRecordWait)
		defer limit.Stop()
		select {
		case <-in.sent:
		case <-limit.C:
		}
		s.quiet.end()
	})
}

// wait returns when every delivery of nominal time t has been sent, at
// t + InstantRecordWait by now's clock, or when ctx ends.
func (s *instants) wait(ctx context.Context, t time.Time, now time.Time) {
	s.mu.Lock()
	in := s.pending[t.UnixNano()]
	s.mu.Unlock()
	if in == nil {
		return
	}
	d := t.Add(InstantRecordWait).Sub(now)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-in.sent:
	case <-timer.C:
	case <-ctx.Done():
	}
}
