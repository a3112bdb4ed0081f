package views

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRelative(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   time.Duration
		want string
	}{
		{"now", 300 * time.Millisecond, "now"},
		{"just past", -400 * time.Millisecond, "now"},
		{"seconds ahead", 3200 * time.Millisecond, "in 3 s"},
		{"seconds ago", -12600 * time.Millisecond, "13 s ago"},
		{"just under a minute", 59600 * time.Millisecond, "in 1 min"},
		{"minutes ago", -2*time.Minute - 10*time.Second, "2 min ago"},
		{"hours ahead", 5*time.Hour + 10*time.Minute, "in 5 h"},
		{"a day and a half", 36 * time.Hour, "in 36 h"},
		{"days ago", -76 * time.Hour, "3 d ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Relative(tc.in))
		})
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name             string
		clock            Clock
		at               time.Time
		full, short, rel string
	}{
		{"whole seconds, no milliseconds", Clock{Zone: berlin, Now: now}, time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "2026-03-29 03:00:00 CEST", "03:00:00", "in 30 min"},
		{"milliseconds when there are some", Clock{Zone: berlin, Now: now}, time.Date(2026, 3, 29, 0, 30, 2, 780e6, time.UTC), "2026-03-29 01:30:02.78 CET", "01:30:02.78", "in 3 s"},
		{"another day keeps its date", Clock{Zone: berlin, Now: now}, time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC), "2026-03-27 13:00:00 CET", "2026-03-27 13:00:00 CET", "37 h ago"},
		{"no zone is UTC", Clock{Now: now}, now, "2026-03-29 00:30:00 UTC", "00:30:00", "now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.full, tc.clock.Full(tc.at))
			require.Equal(t, tc.short, tc.clock.Short(tc.at))
			require.Equal(t, tc.rel, tc.clock.Relative(tc.at))
		})
	}
}

func TestZoneChoice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		choice   ZoneChoice
		schedule string
		want     string
	}{
		{"the schedule's zone by default", "", "Europe/Berlin", "Europe/Berlin"},
		{"UTC without a schedule zone", "", "", "UTC"},
		{"the viewer's choice wins", "America/New_York", "Europe/Berlin", "America/New_York"},
		{"a zone not known is UTC", "", "device", "UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.choice.ZoneFor(tc.schedule).String())
		})
	}
}
