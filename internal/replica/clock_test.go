package replica

import (
	"testing"
	"time"
)

func TestMeasureTakesTheRoundTripMidpoint(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// The database answered 10ms after sending, reading its clock as 405ms
	// past sent: at the midpoint (5ms) it was 400ms ahead.
	got := measure(sent, 10*time.Millisecond, sent.Add(405*time.Millisecond))
	if want := 400 * time.Millisecond; got.offset != want {
		t.Fatalf("offset: got %v, want %v", got.offset, want)
	}
	if want := 395 * time.Millisecond; got.floor() != want {
		t.Fatalf("floor: got %v, want %v", got.floor(), want)
	}
}

func TestOffsetFilterKeepsTheShortestRoundTrip(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name      string
		samples   []clockSample
		want      time.Duration
		wantFloor time.Duration
	}{
		{name: "none", want: 0, wantFloor: 0},
		{name: "one", samples: []clockSample{{offset: 300 * ms, rtt: 2 * ms}}, want: 300 * ms, wantFloor: 299 * ms},
		{
			name: "a slow heartbeat does not move it",
			samples: []clockSample{
				{offset: -400 * ms, rtt: 2 * ms},
				{offset: -250 * ms, rtt: 300 * ms},
			},
			want: -400 * ms, wantFloor: -401 * ms,
		},
		{
			name: "the quickest of the recent ones",
			samples: []clockSample{
				{offset: 10 * ms, rtt: 8 * ms},
				{offset: 12 * ms, rtt: 4 * ms},
				{offset: 11 * ms, rtt: 6 * ms},
			},
			want: 12 * ms, wantFloor: 10 * ms,
		},
		{
			name: "old samples are forgotten",
			samples: append([]clockSample{{offset: 999 * ms, rtt: 0}},
				repeat(clockSample{offset: 5 * ms, rtt: 2 * ms}, offsetSamples)...),
			want: 5 * ms, wantFloor: 4 * ms,
		},
		{
			name:    "same host: within the round trip, never ahead",
			samples: []clockSample{{offset: 100 * time.Microsecond, rtt: 400 * time.Microsecond}},
			want:    100 * time.Microsecond, wantFloor: -100 * time.Microsecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var f offsetFilter
			var best clockSample
			for _, s := range tt.samples {
				best = f.add(s)
			}
			if best.offset != tt.want {
				t.Errorf("offset: got %v, want %v", best.offset, tt.want)
			}
			if best.floor() != tt.wantFloor {
				t.Errorf("floor: got %v, want %v", best.floor(), tt.wantFloor)
			}
		})
	}
}

func repeat(s clockSample, n int) []clockSample {
	out := make([]clockSample, n)
	for i := range out {
		out[i] = s
	}
	return out
}
