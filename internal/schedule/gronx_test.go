package schedule_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/adhocore/gronx"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/schedule"
)

// The engine is our own (doc.go says why), so it is held to the maintained
// parser the issue named: wherever gronx's semantics are not in question —
// away from daylight-saving transitions, where the two differ on purpose —
// both give the same next tick for the same expression from the same instant,
// in UTC and in zones with and without DST.
func TestAgreesWithGronx(t *testing.T) {
	t.Parallel()
	monthly := []string{
		"* * * * *", "*/15 * * * *", "0 2 * * *", "30 9 * * 1-5", "0 0 1 * *", "0 12 * * 0",
		"5,35 */2 * * *", "0 0 13 * 5", "59 23 * * 6", "0 8-18/3 * * mon-fri",
		"* * * * * *", "*/10 * * * * *", "3/10 * * * * *", "0 30 9 * * 1-5", "45 59 23 * * *",
	}
	yearly := []string{"15 0 0 1 1 *", "0 0 29 2 *", "0 6 1 jan,jul *"}
	// Windows without a transition in any of these zones (northern summer,
	// northern winter; Lord Howe changes in April and October).
	windows := [][2]time.Time{
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC)},
	}
	rng := rand.New(rand.NewPCG(3, 24))
	check := func(expr, zone string, from time.Time) {
		loc, err := time.LoadLocation(zone)
		require.NoError(t, err)
		s, err := schedule.ParseCron(expr, zone)
		require.NoError(t, err, "%q", expr)
		want, err := gronx.NextTickAfter(expr, from.In(loc), false)
		require.NoError(t, err, "gronx %q from %s", expr, from)
		got := s.Next(from)
		require.True(t, got.Equal(want), "%q in %s from %s: got %s, want %s (gronx)", expr, zone, from.In(loc), got.In(loc), want)
	}
	for _, zone := range []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"} {
		for _, expr := range monthly {
			for range 40 {
				w := windows[rng.IntN(len(windows))]
				// Leave a month for the next tick before the window ends.
				span := w[1].Sub(w[0]) - 31*24*time.Hour
				from := w[0].Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)
				check(expr, zone, from)
			}
		}
	}
	for _, expr := range yearly {
		for range 40 {
			from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Second)
			check(expr, "UTC", from)
		}
	}
}
