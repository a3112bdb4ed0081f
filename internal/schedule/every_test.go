package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEveryNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		interval time.Duration
		anchor   string
		from     string
		want     []string
	}{
		{"from the anchor", 30 * time.Second, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z", "2026-01-01T00:01:30Z"}},
		{"just before the anchor", 30 * time.Second, "2026-01-01T00:00:00Z", "2025-12-31T23:59:59.999999999Z",
			[]string{"2026-01-01T00:00:00Z", "2026-01-01T00:00:30Z"}},
		{"between ticks", 30 * time.Second, "2026-01-01T00:00:00Z", "2026-01-01T00:00:45Z",
			[]string{"2026-01-01T00:01:00Z"}},
		{"just before a tick", 30 * time.Second, "2026-01-01T00:00:00Z", "2026-01-01T00:00:29.999Z",
			[]string{"2026-01-01T00:00:30Z"}},
		{"before the anchor", 30 * time.Second, "2026-01-01T00:00:00Z", "2025-12-31T23:59:15Z",
			[]string{"2025-12-31T23:59:30Z", "2026-01-01T00:00:00Z"}},
		{"anchor with fractional seconds", time.Minute, "2026-01-01T00:00:00.25Z", "2026-01-01T00:00:10Z",
			[]string{"2026-01-01T00:01:00.25Z", "2026-01-01T00:02:00.25Z"}},
		{"interval with fractional seconds", 1500 * time.Millisecond, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:00:01.5Z", "2026-01-01T00:00:03Z"}},
		{"odd anchor", 7 * time.Hour, "2026-01-01T05:17:03Z", "2026-01-02T00:00:00Z",
			[]string{"2026-01-02T02:17:03Z", "2026-01-02T09:17:03Z"}},
		{"anchor centuries away", time.Hour, "0001-01-01T00:00:00Z", "2026-05-01T10:20:00Z",
			[]string{"2026-05-01T11:00:00Z", "2026-05-01T12:00:00Z"}},
		{"anchor centuries ahead", 24 * time.Hour, "2999-06-01T12:00:00Z", "2026-05-01T10:20:00Z",
			[]string{"2026-05-01T12:00:00Z"}},
		{"spring forward is just another hour", time.Hour, "2026-03-29T00:00:00+01:00", "2026-03-29T00:30:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Every(tt.interval, utc(t, tt.anchor))
			require.NoError(t, err)
			requireTimes(t, NextN(s, utc(t, tt.from), len(tt.want)), tt.want)
		})
	}
}

// TestEveryFarAnchor checks the phase arithmetic for intervals that do not
// divide a day, with anchor and t further apart than a time.Duration holds.
func TestEveryFarAnchor(t *testing.T) {
	t.Parallel()
	anchor := utc(t, "0001-01-01T00:00:00Z")
	for _, interval := range []time.Duration{7 * time.Second, 1234567 * time.Millisecond, 97 * time.Hour} {
		t.Run(interval.String(), func(t *testing.T) {
			t.Parallel()
			s, err := Every(interval, anchor)
			require.NoError(t, err)
			for _, from := range []time.Time{utc(t, "2026-05-01T10:20:00.123Z"), utc(t, "1500-01-01T00:00:00Z")} {
				next := s.Next(from)
				require.True(t, next.After(from), "got %v, want after %v", next, from)
				require.False(t, next.Add(-interval).After(from), "got %v, want within %v of %v", next, interval, from)
				// next - anchor must be a whole number of intervals.
				secs := next.Unix() - anchor.Unix()
				step := interval.Milliseconds()
				got := (secs*1000 + int64(next.Nanosecond()/1e6)) % step
				require.Zero(t, got, "got phase %vms, want 0", got)
			}
		})
	}
}

func TestEveryIgnoresZones(t *testing.T) {
	t.Parallel()
	anchor := time.Date(2026, 10, 24, 0, 0, 0, 0, mustZone(t, "Europe/Berlin"))
	s, err := Every(time.Hour, anchor)
	require.NoError(t, err)
	fires := between(t, s, anchor, anchor.Add(48*time.Hour))
	require.Len(t, fires, 48, "got %v fires, want %v", len(fires), 48)
	for i, f := range fires {
		want := anchor.Add(time.Duration(i+1) * time.Hour).UTC()
		require.Equal(t, want, f, "got %v, want %v", f, want)
	}
}

func TestEveryRejectsShortIntervals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		interval time.Duration
		want     string
	}{
		{"zero", 0, "every: interval 0s is shorter than the minimum of 1s"},
		{"negative", -time.Minute, "every: interval -1m0s is shorter than the minimum of 1s"},
		{"sub-second", 999 * time.Millisecond, "every: interval 999ms is shorter than the minimum of 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Every(tt.interval, time.Now())
			require.Nil(t, s)
			require.EqualError(t, err, tt.want, "got %v, want %v", err, tt.want)
		})
	}
}

func TestEveryStripsMonotonicClock(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s, err := Every(time.Second, now)
	require.NoError(t, err)
	got := s.Next(now)
	want := now.Round(0).Add(time.Second).UTC()
	require.Equal(t, want, got, "got %v, want %v", got, want)
}
