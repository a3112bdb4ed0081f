package dispatch

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff returns the delay before the retry that follows failed attempt n
// (n >= 1; smaller n count as 1). The nominal delay is
// d = min(initial*2^(n-1), maxDelay), and the result is uniformly random in
// [d/2, d] ("equal jitter"): retries of many tasks spread out, yet a retry
// never fires immediately and the window of attempt n+1 starts where the
// window of attempt n ends, until maxDelay is reached.
//
// A non-positive initial yields 0. A non-positive maxDelay means no cap (the
// nominal delay then saturates at the largest time.Duration). Backoff is safe
// for concurrent use.
func Backoff(n int, initial, maxDelay time.Duration) time.Duration {
	if initial <= 0 {
		return 0
	}
	if maxDelay <= 0 {
		maxDelay = math.MaxInt64
	}
	d := nominalBackoff(n, initial, maxDelay)
	half := d / 2
	return half + rand.N(d-half+1)
}

// nominalBackoff returns min(initial*2^(n-1), maxDelay) without overflowing,
// for positive initial and maxDelay.
func nominalBackoff(n int, initial, maxDelay time.Duration) time.Duration {
	d := min(initial, maxDelay)
	for i := 1; i < n && d < maxDelay; i++ {
		if d > maxDelay/2 {
			return maxDelay
		}
		d *= 2
	}
	return d
}
