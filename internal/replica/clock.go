package replica

import "time"

// offsetSamples is how many recent readings (probes and heartbeats) the
// clock offset is judged from: about 6 s of them at the default intervals.
const offsetSamples = 24

// clockSample is one measurement of PostgreSQL's clock against this
// process's: the offset (database minus local, at the midpoint of the round
// trip) and the round trip it was measured over.
type clockSample struct {
	offset time.Duration
	rtt    time.Duration
}

// measure is the sample of a heartbeat sent at local time sent, answered
// after rtt with the database's time db.
func measure(sent time.Time, rtt time.Duration, db time.Time) clockSample {
	return clockSample{offset: db.Sub(sent.Add(rtt / 2)), rtt: rtt}
}

// offsetFilter smooths clock samples as NTP's clock filter does: of the
// recent samples, the one measured over the shortest round trip is the
// least disturbed by queueing in either direction, so its offset is the
// estimate. One slow heartbeat (a busy database) does not move it.
type offsetFilter struct {
	samples [offsetSamples]clockSample
	n       int // samples taken so far
}

// add records a sample and returns the best recent one.
func (f *offsetFilter) add(s clockSample) clockSample {
	f.samples[f.n%offsetSamples] = s
	f.n++
	return f.best()
}

// best is the recent sample with the shortest round trip; zero before any.
func (f *offsetFilter) best() clockSample {
	k := min(f.n, offsetSamples)
	if k == 0 {
		return clockSample{}
	}
	best := f.samples[0]
	for _, s := range f.samples[1:k] {
		if s.rtt < best.rtt {
			best = s
		}
	}
	return best
}

// floor is the least offset the sample allows: the true offset lies within
// half the round trip of the measured one. Sending at a nominal time by
// this process's clock plus floor is never early by the database's clock,
// and at most one round trip late.
func (s clockSample) floor() time.Duration { return s.offset - s.rtt/2 }
