package schedule

import (
	"fmt"
	"math/bits"
	"time"
)

// MinInterval is the shortest interval Every accepts.
const MinInterval = time.Second

// every fires at anchor + k*interval for every integer k.
type every struct {
	interval time.Duration
	anchor   time.Time
}

// Every returns a schedule that fires at anchor + k*interval for every
// integer k, in absolute time regardless of time zones. The anchor is
// typically the job's creation time. interval must be at least MinInterval.
func Every(interval time.Duration, anchor time.Time) (Schedule, error) {
	if interval < MinInterval {
		return nil, fmt.Errorf("every: interval %v is shorter than the minimum of %v", interval, MinInterval)
	}
	return every{interval: interval, anchor: anchor.UTC()}, nil
}

// Next returns the first instant anchor + k*interval strictly after t.
func (e every) Next(t time.Time) time.Time {
	return t.Add(e.interval - e.phase(t)).UTC()
}

// phase returns (t - anchor) mod interval, in [0, interval). It is exact for
// any pair of times, even those further apart than a time.Duration can hold.
func (e every) phase(t time.Time) time.Duration {
	step := uint64(e.interval)
	secs := t.Unix() - e.anchor.Unix()
	nanos := int64(t.Nanosecond() - e.anchor.Nanosecond())
	if nanos < 0 {
		secs--
		nanos += int64(time.Second)
	}
	// t - anchor = secs*1e9 + nanos, with 0 <= nanos < 1e9 <= step.
	hi, lo := bits.Mul64(absInt64(secs), uint64(time.Second))
	r := bits.Rem64(hi, lo, step)
	if secs < 0 && r != 0 {
		r = step - r
	}
	return time.Duration(addMod(r, uint64(nanos), step))
}

// absInt64 returns |v| as a uint64, exact even for math.MinInt64.
func absInt64(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// addMod returns (a + b) mod m for a, b < m without overflowing.
func addMod(a, b, m uint64) uint64 {
	if a >= m-b {
		return a - (m - b)
	}
	return a + b
}
