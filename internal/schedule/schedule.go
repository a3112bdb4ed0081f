package schedule

import "time"

// Schedule yields the nominal fire times of a recurring job.
// Implementations in this package are immutable and safe for concurrent use.
type Schedule interface {
	// Next returns the first fire time strictly after t, in UTC. It returns
	// the zero time if there is none (for example a cron schedule for
	// February 30).
	Next(t time.Time) time.Time
}

// NextN returns the next n fire times of s strictly after t, in order. It
// returns fewer than n times if the schedule runs out, and none if n <= 0.
func NextN(s Schedule, t time.Time, n int) []time.Time {
	if n <= 0 {
		return nil
	}
	times := make([]time.Time, 0, min(n, 1024))
	for len(times) < n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		times = append(times, t)
	}
	return times
}

// Between returns the fire times of s in the interval (from, to], in order,
// at most limit of them. truncated reports whether further fire times in the
// interval were left out. It serves to catch up on ticks missed while
// nothing ran; with limit <= 0 it returns no times and reports whether there
// were any.
func Between(s Schedule, from, to time.Time, limit int) (times []time.Time, truncated bool) {
	for next := s.Next(from); !next.IsZero() && !next.After(to); next = s.Next(next) {
		if len(times) >= limit {
			return times, true
		}
		times = append(times, next)
	}
	return times, false
}
