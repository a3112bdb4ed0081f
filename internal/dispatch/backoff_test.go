package dispatch_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
)

const backoffSamples = 2000

func TestBackoffBounds(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name             string
		n                int
		initial, max     time.Duration
		wantLo, wantHi   time.Duration
		wantManyDistinct bool
	}{
		{name: "first retry", n: 1, initial: time.Second, max: time.Minute, wantLo: 500 * time.Millisecond, wantHi: time.Second, wantManyDistinct: true},
		{name: "second retry", n: 2, initial: time.Second, max: time.Minute, wantLo: time.Second, wantHi: 2 * time.Second, wantManyDistinct: true},
		{name: "sixth retry", n: 6, initial: time.Second, max: time.Minute, wantLo: 16 * time.Second, wantHi: 32 * time.Second, wantManyDistinct: true},
		{name: "capped", n: 7, initial: time.Second, max: time.Minute, wantLo: 30 * time.Second, wantHi: time.Minute, wantManyDistinct: true},
		{name: "far past the cap", n: 1_000_000, initial: time.Second, max: 5 * time.Minute, wantLo: 150 * time.Second, wantHi: 5 * time.Minute, wantManyDistinct: true},
		{name: "initial above max", n: 1, initial: time.Hour, max: time.Minute, wantLo: 30 * time.Second, wantHi: time.Minute, wantManyDistinct: true},
		{name: "n zero counts as one", n: 0, initial: time.Second, max: time.Minute, wantLo: 500 * time.Millisecond, wantHi: time.Second, wantManyDistinct: true},
		{name: "negative n counts as one", n: -3, initial: time.Second, max: time.Minute, wantLo: 500 * time.Millisecond, wantHi: time.Second, wantManyDistinct: true},
		{name: "no cap", n: 11, initial: time.Second, max: 0, wantLo: 512 * time.Second, wantHi: 1024 * time.Second, wantManyDistinct: true},
		{name: "no cap saturates", n: 200, initial: time.Second, max: 0, wantLo: math.MaxInt64 / 2, wantHi: math.MaxInt64, wantManyDistinct: true},
		{name: "one nanosecond", n: 1, initial: 1, max: time.Second, wantLo: 0, wantHi: 1},
		{name: "zero initial", n: 3, initial: 0, max: time.Minute, wantLo: 0, wantHi: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			distinct := make(map[time.Duration]bool)
			for range backoffSamples {
				got := dispatch.Backoff(tt.n, tt.initial, tt.max)
				require.True(t, got >= tt.wantLo && got <= tt.wantHi, "got %v, want in [%v, %v]", got, tt.wantLo, tt.wantHi)
				distinct[got] = true
			}
			if tt.wantManyDistinct {
				require.Greater(t, len(distinct), backoffSamples/2, "got %v distinct delays of %v, want jitter", len(distinct), backoffSamples)
			}
		})
	}
}

func TestBackoffWindowsNeverShrink(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		initial, max time.Duration
	}{
		{name: "seconds to minutes", initial: time.Second, max: 5 * time.Minute},
		{name: "milliseconds", initial: 10 * time.Millisecond, max: 10 * time.Second},
		{name: "max not a power of two of initial", initial: 3 * time.Second, max: 100 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prevMax := time.Duration(0)
			for n := 1; n <= 30; n++ {
				lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
				for range backoffSamples {
					d := dispatch.Backoff(n, tt.initial, tt.max)
					lo, hi = min(lo, d), max(hi, d)
				}
				require.Positive(t, lo, "attempt %d: got %v, want > 0", n, lo)
				require.LessOrEqual(t, hi, tt.max, "attempt %d: got %v, want <= %v", n, hi, tt.max)
				// Once capped, windows repeat, so compare with the previous
				// window's upper bound only while it stays below the cap's.
				if prevMax <= tt.max/2 {
					require.GreaterOrEqual(t, lo, prevMax, "attempt %d: got shortest %v, want >= longest %v of attempt %d", n, lo, prevMax, n-1)
				} else {
					require.GreaterOrEqual(t, lo, tt.max/2, "attempt %d: got shortest %v, want >= %v", n, lo, tt.max/2)
				}
				prevMax = hi
			}
		})
	}
}
