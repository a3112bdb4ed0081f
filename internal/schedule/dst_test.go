package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Transitions used below (2026):
//   - Europe/Berlin springs forward on 03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST)
//     and falls back on 10-25 at 01:00 UTC (03:00 CEST -> 02:00 CET).
//   - America/New_York springs forward on 03-08 at 07:00 UTC (02:00 EST -> 03:00 EDT)
//     and falls back on 11-01 at 06:00 UTC (02:00 EDT -> 01:00 EST).
func TestDSTTransitionDays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, zone, day, expr string
		// wantCount is the number of fires during the local calendar day.
		wantCount int
		// want lists the fires in (from, to], a window around the transition.
		from, to string
		want     []string
	}{
		// Spring forward: nonexistent local times fire once, at the end of the gap.
		{"berlin spring daily 02:30 fires at gap end", "Europe/Berlin", "2026-03-29", "30 2 * * *", 1,
			"2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z", []string{"2026-03-29T01:00:00Z"}},
		{"berlin spring every 10 minutes in hour 2 fires once", "Europe/Berlin", "2026-03-29", "0 */10 2 * * *", 1,
			"2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z", []string{"2026-03-29T01:00:00Z"}},
		{"berlin spring 02:00 and 03:00 collapse", "Europe/Berlin", "2026-03-29", "0 2,3 * * *", 1,
			"2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z", []string{"2026-03-29T01:00:00Z"}},
		{"berlin spring hourly follows the clock", "Europe/Berlin", "2026-03-29", "0 * * * *", 23,
			"2026-03-28T23:30:00Z", "2026-03-29T02:30:00Z",
			[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
		{"berlin spring every 15 minutes", "Europe/Berlin", "2026-03-29", "*/15 * * * *", 92,
			"2026-03-29T00:20:00Z", "2026-03-29T01:20:00Z",
			[]string{"2026-03-29T00:30:00Z", "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"}},
		{"berlin spring every second", "Europe/Berlin", "2026-03-29", "* * * * * *", 23 * 3600,
			"2026-03-29T00:59:57Z", "2026-03-29T01:00:02Z",
			[]string{"2026-03-29T00:59:58Z", "2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z", "2026-03-29T01:00:01Z", "2026-03-29T01:00:02Z"}},
		{"new york spring daily 02:30 fires at gap end", "America/New_York", "2026-03-08", "30 2 * * *", 1,
			"2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z", []string{"2026-03-08T07:00:00Z"}},
		{"new york spring every 10 minutes in hour 2 fires once", "America/New_York", "2026-03-08", "0 */10 2 * * *", 1,
			"2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z", []string{"2026-03-08T07:00:00Z"}},
		{"new york spring hourly follows the clock", "America/New_York", "2026-03-08", "0 * * * *", 23,
			"2026-03-08T05:30:00Z", "2026-03-08T08:30:00Z",
			[]string{"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"}},
		{"new york spring every 15 minutes", "America/New_York", "2026-03-08", "*/15 * * * *", 92,
			"2026-03-08T06:20:00Z", "2026-03-08T07:20:00Z",
			[]string{"2026-03-08T06:30:00Z", "2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"}},
		{"new york spring every second", "America/New_York", "2026-03-08", "* * * * * *", 23 * 3600,
			"2026-03-08T06:59:58Z", "2026-03-08T07:00:01Z",
			[]string{"2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z", "2026-03-08T07:00:01Z"}},

		// Fall back: a repeated local time fires at its first occurrence only,
		// unless the schedule fires in every hour.
		{"berlin fall daily 02:30 fires at first occurrence", "Europe/Berlin", "2026-10-25", "30 2 * * *", 1,
			"2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z", []string{"2026-10-25T00:30:00Z"}},
		{"berlin fall every 10 minutes in hour 2 fires six times", "Europe/Berlin", "2026-10-25", "0 */10 2 * * *", 6,
			"2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T00:10:00Z", "2026-10-25T00:20:00Z", "2026-10-25T00:30:00Z", "2026-10-25T00:40:00Z", "2026-10-25T00:50:00Z"}},
		{"berlin fall hourly follows the clock", "Europe/Berlin", "2026-10-25", "0 * * * *", 25,
			"2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
		{"berlin fall every 15 minutes", "Europe/Berlin", "2026-10-25", "*/15 * * * *", 100,
			"2026-10-25T00:40:00Z", "2026-10-25T01:20:00Z",
			[]string{"2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:15:00Z"}},
		{"berlin fall every second", "Europe/Berlin", "2026-10-25", "* * * * * *", 25 * 3600,
			"2026-10-25T00:59:58Z", "2026-10-25T01:00:01Z",
			[]string{"2026-10-25T00:59:59Z", "2026-10-25T01:00:00Z", "2026-10-25T01:00:01Z"}},
		{"new york fall daily 01:30 fires at first occurrence", "America/New_York", "2026-11-01", "30 1 * * *", 1,
			"2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z", []string{"2026-11-01T05:30:00Z"}},
		{"new york fall daily 02:30 is unaffected", "America/New_York", "2026-11-01", "30 2 * * *", 1,
			"2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z", []string{"2026-11-01T07:30:00Z"}},
		{"new york fall every 10 minutes in hour 1 fires six times", "America/New_York", "2026-11-01", "0 */10 1 * * *", 6,
			"2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:10:00Z", "2026-11-01T05:20:00Z", "2026-11-01T05:30:00Z", "2026-11-01T05:40:00Z", "2026-11-01T05:50:00Z"}},
		{"new york fall hourly follows the clock", "America/New_York", "2026-11-01", "0 * * * *", 25,
			"2026-11-01T04:30:00Z", "2026-11-01T07:30:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
		{"new york fall every 15 minutes", "America/New_York", "2026-11-01", "*/15 * * * *", 100,
			"2026-11-01T05:40:00Z", "2026-11-01T06:20:00Z",
			[]string{"2026-11-01T05:45:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:15:00Z"}},
		{"new york fall every second", "America/New_York", "2026-11-01", "* * * * * *", 25 * 3600,
			"2026-11-01T05:59:58Z", "2026-11-01T06:00:01Z",
			[]string{"2026-11-01T05:59:59Z", "2026-11-01T06:00:00Z", "2026-11-01T06:00:01Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, tt.expr, tt.zone)
			requireTimes(t, between(t, s, utc(t, tt.from), utc(t, tt.to)), tt.want)

			day, err := time.ParseInLocation(time.DateOnly, tt.day, mustZone(t, tt.zone))
			require.NoError(t, err)
			fires := between(t, s, day.Add(-time.Nanosecond), day.AddDate(0, 0, 1).Add(-time.Nanosecond))
			require.Len(t, fires, tt.wantCount, "got %v fires, want %v", len(fires), tt.wantCount)
			requireIncreasing(t, fires)
		})
	}
}

// TestDSTEveryInstantOnce checks the elapsed-time rhythm of schedules that
// fire in every hour: across each transition, every second fires exactly
// once and nothing else does.
func TestDSTEveryInstantOnce(t *testing.T) {
	t.Parallel()
	days := []struct{ zone, day string }{
		{"Europe/Berlin", "2026-03-29"},
		{"Europe/Berlin", "2026-10-25"},
		{"America/New_York", "2026-03-08"},
		{"America/New_York", "2026-11-01"},
	}
	for _, d := range days {
		t.Run(d.zone+"/"+d.day, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, "* * * * * *", d.zone)
			day, err := time.ParseInLocation(time.DateOnly, d.day, mustZone(t, d.zone))
			require.NoError(t, err)
			from, to := day.Add(-6*time.Hour), day.Add(30*time.Hour)
			fires := between(t, s, from, to)
			want := int(to.Sub(from) / time.Second)
			require.Len(t, fires, want, "got %v fires, want %v", len(fires), want)
			require.Equal(t, from.Add(time.Second).UTC(), fires[0], "got first %v, want %v", fires[0], from.Add(time.Second))
			for i := 1; i < len(fires); i++ {
				gap := fires[i].Sub(fires[i-1])
				require.Equal(t, time.Second, gap, "got gap %v before %v, want %v", gap, fires[i], time.Second)
			}
		})
	}
}

// TestDSTMatchesReference compares Next with a brute-force model that
// applies the documented DST rules literally, second by second, across
// transitions of several kinds.
func TestDSTMatchesReference(t *testing.T) {
	t.Parallel()
	days := []struct{ zone, day string }{
		{"Europe/Berlin", "2026-03-29"},
		{"Europe/Berlin", "2026-10-25"},
		{"America/New_York", "2026-03-08"},
		{"America/New_York", "2026-11-01"},
		{"Australia/Lord_Howe", "2026-04-05"}, // falls back 30 minutes: 02:00 -> 01:30
		{"Australia/Lord_Howe", "2026-10-04"}, // springs forward 30 minutes: 02:00 -> 02:30
		{"America/Sao_Paulo", "2018-11-04"},   // midnight does not exist: 00:00 -> 01:00
		{"America/Sao_Paulo", "2019-02-16"},   // 23:00-23:59 repeats: 00:00 -> 23:00
		{"Pacific/Apia", "2011-12-30"},        // a whole day skipped: 12-29 24:00 -> 12-31 00:00
		{"Asia/Tokyo", "2026-03-29"},          // no transition
		{"Europe/Berlin", "2040-12-31"},       // time.ZoneBounds ends this period early (golang/go#81583)
		{"America/New_York", "2044-12-31"},    // likewise
	}
	exprs := []string{
		"30 2 * * *", "0 */10 2 * * *", "0 2,3 * * *", "30 1 * * *", "15 0-3 * * *",
		"45 23 * * *", "@daily", "0 12 * * FRI", "0 * * * *", "*/15 * * * *",
		"0 30 * * * *", "*/7 */13 * * * *", "* * * * * *",
	}
	for _, d := range days {
		t.Run(d.zone+"/"+d.day, func(t *testing.T) {
			t.Parallel()
			loc := mustZone(t, d.zone)
			day, err := time.ParseInLocation(time.DateOnly, d.day, loc)
			require.NoError(t, err)
			from, to := day.Add(-12*time.Hour), day.Add(36*time.Hour)
			model := newWallModel(loc, from.Unix()-86400, to.Unix())
			for _, expr := range exprs {
				s := mustParse(t, expr, d.zone)
				want := formatTimes(model.fires(s.(*cronSchedule), from.Unix(), to.Unix()))
				got := formatTimes(between(t, s, from.Add(-time.Nanosecond), to.Add(-time.Nanosecond)))
				require.Equal(t, want, got, "%s: got %v, want %v", expr, got, want)
			}
		})
	}
}

// wallModel holds the local wall-clock reading, as Unix seconds of the same
// reading in UTC, of every second in [first, end).
type wallModel struct {
	first int64
	walls []int64
}

func newWallModel(loc *time.Location, first, end int64) wallModel {
	m := wallModel{first: first, walls: make([]int64, 0, end-first)}
	for u := first; u < end; u++ {
		_, offset := time.Unix(u, 0).In(loc).Zone()
		m.walls = append(m.walls, u+int64(offset))
	}
	return m
}

// fires returns the fire instants of c in [from, to) by the documented rules:
// rule 1 fires whenever the wall clock matches; rule 2 fires at the first
// occurrence of a matching wall time, and at the end of a gap containing one.
func (m wallModel) fires(c *cronSchedule, from, to int64) []time.Time {
	var out []time.Time
	seen := m.walls[0]
	for i := 1; i < len(m.walls); i++ {
		u, w := m.first+int64(i), m.walls[i]
		fire := false
		if c.followClock {
			fire = matchesWall(c, w)
		} else if w > seen {
			for g := seen + 1; g <= w && !fire; g++ {
				fire = matchesWall(c, g)
			}
		}
		seen = max(seen, w)
		if fire && u >= from && u < to {
			out = append(out, time.Unix(u, 0).UTC())
		}
	}
	return out
}

// matchesWall reports whether a wall time matches c, field by field.
func matchesWall(c *cronSchedule, wall int64) bool {
	ts := time.Unix(wall, 0).UTC()
	has := func(set uint64, v int) bool { return set&(1<<v) != 0 }
	dom, dow := has(c.dom, ts.Day()), has(c.dow, int(ts.Weekday()))
	dayOK := dom || dow
	if c.dayAnd {
		dayOK = dom && dow
	}
	return dayOK && has(c.second, ts.Second()) && has(c.minute, ts.Minute()) &&
		has(c.hour, ts.Hour()) && has(c.month, int(ts.Month()))
}

// between returns all fire times in (from, to], failing if there are more
// than a day's worth of seconds.
func between(t testing.TB, s Schedule, from, to time.Time) []time.Time {
	t.Helper()
	fires, truncated := Between(s, from, to, 200_000)
	require.False(t, truncated, "got truncated fires in (%v, %v]", from, to)
	return fires
}

// requireIncreasing fails unless times are strictly increasing (no duplicates).
func requireIncreasing(t testing.TB, times []time.Time) {
	t.Helper()
	for i := 1; i < len(times); i++ {
		require.True(t, times[i].After(times[i-1]), "got %v after %v, want strictly increasing", times[i], times[i-1])
	}
}

func TestDSTRuleSelection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr            string
		wantFollowClock bool
	}{
		{"* * * * * *", true},
		{"*/15 * * * *", true},
		{"0 */1 * * *", true},
		{"0 0-23 * * *", true},
		{"@hourly", true},
		{"0 0-22 * * *", false},
		{"0 */2 * * *", false},
		{"30 2 * * *", false},
		{"@daily", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.expr), func(t *testing.T) {
			t.Parallel()
			got := mustParse(t, tt.expr, "Europe/Berlin").(*cronSchedule).followClock
			require.Equal(t, tt.wantFollowClock, got, "got %v, want %v", got, tt.wantFollowClock)
		})
	}
}
