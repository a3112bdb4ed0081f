package main

import (
	"math"
	"slices"
	"time"
)

// latencies is a sample of durations, summarised by nearest-rank quantiles.
type latencies []time.Duration

// sorted returns the sample in ascending order (sorting it in place).
func (l latencies) sorted() latencies {
	slices.Sort(l)
	return l
}

// quantile returns the nearest-rank q-quantile (0 < q ≤ 1) of the sorted
// sample, in milliseconds; NaN for an empty sample.
func (l latencies) quantile(q float64) float64 {
	if len(l) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(q*float64(len(l)))) - 1
	return milliseconds(l[min(max(rank, 0), len(l)-1)])
}

// max returns the largest duration of the sorted sample in milliseconds;
// NaN for an empty sample.
func (l latencies) max() float64 { return l.quantile(1) }

// milliseconds converts d to fractional milliseconds.
func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rate is count events over d, per second.
func rate(count int64, d time.Duration) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return float64(count) / d.Seconds()
}

// megabytes converts a byte count to MiB, the MB the memory target means.
func megabytes(b int64) float64 { return float64(b) / (1 << 20) }
