package schedule

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCronNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, tz string
		from           string
		want           []string
	}{
		{"six fields every second", "* * * * * *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z"}},
		{"five fields every minute", "* * * * *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z", "2026-01-01T00:03:00Z"}},
		{"strictly after a fire time", "0 12 * * *", "", "2026-01-01T12:00:00Z",
			[]string{"2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z"}},
		{"fraction of a second before a fire time", "0 12 * * *", "", "2026-01-01T11:59:59.999999999Z",
			[]string{"2026-01-01T12:00:00Z"}},
		{"fraction of a second after a fire time", "* * * * * *", "", "2026-01-01T00:00:00.5Z",
			[]string{"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"}},
		{"seconds step", "*/20 * * * * *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"}},
		{"seconds list", "5,10 * * * * *", "", "2026-01-01T00:00:07Z",
			[]string{"2026-01-01T00:00:10Z", "2026-01-01T00:01:05Z", "2026-01-01T00:01:10Z"}},
		{"range with step", "0 0 8-18/5 * * *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T08:00:00Z", "2026-01-01T13:00:00Z", "2026-01-01T18:00:00Z", "2026-01-02T08:00:00Z"}},
		{"minute and hour rollover", "30 59 23 * * *", "", "2026-12-31T23:59:30Z",
			[]string{"2027-01-01T23:59:30Z"}},
		{"month names", "0 0 1 jan,Jul *", "", "2026-02-01T00:00:00Z",
			[]string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		{"weekday names", "0 9 * * MON-fri", "", "2026-01-02T10:00:00Z", // a Friday
			[]string{"2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z", "2026-01-07T09:00:00Z", "2026-01-08T09:00:00Z", "2026-01-09T09:00:00Z", "2026-01-12T09:00:00Z"}},
		{"seven is sunday", "0 0 * * 7", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{"zero is sunday", "0 0 * * 0", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{"question marks", "0 0 ? * ?", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"}},
		{"vixie either day matches", "0 0 13 * FRI", "", "2026-03-01T00:00:00Z",
			[]string{"2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z", "2026-03-27T00:00:00Z", "2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z"}},
		{"vixie first of month or monday", "0 0 1 * MON", "", "2026-03-28T12:00:00Z",
			[]string{"2026-03-30T00:00:00Z", "2026-04-01T00:00:00Z", "2026-04-06T00:00:00Z"}},
		{"star day-of-month needs weekday", "0 0 * * FRI", "", "2026-03-01T00:00:00Z",
			[]string{"2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z"}},
		{"question day-of-week needs day-of-month", "0 0 13 * ?", "", "2026-03-01T00:00:00Z",
			[]string{"2026-03-13T00:00:00Z", "2026-04-13T00:00:00Z"}},
		{"stepped day-of-month is unrestricted for vixie so both must match", "0 0 */2 * MON", "", "2026-03-01T00:00:00Z",
			[]string{"2026-03-09T00:00:00Z", "2026-03-23T00:00:00Z", "2026-04-13T00:00:00Z"}},
		{"day 31 skips short months", "0 0 31 * *", "", "2026-01-31T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"}},
		{"leap day", "0 0 29 2 *", "", "2026-03-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"leap day across 2100", "0 0 29 2 *", "", "2096-03-01T00:00:00Z",
			[]string{"2104-02-29T00:00:00Z"}},
		{"leap day on a weekend", "0 0 29 2 */6", "", "2026-01-01T00:00:00Z", // */6 = SUN,SAT; AND rule
			[]string{"2032-02-29T00:00:00Z", "2048-02-29T00:00:00Z"}},
		{"february 30 never", "0 0 30 2 *", "", "2026-01-01T00:00:00Z", nil},
		{"april 31 never", "0 0 31 4,6,9,11 ?", "", "2026-01-01T00:00:00Z", nil},
		{"february 30 or any monday", "0 0 30 2 MON", "", "2026-01-01T00:00:00Z",
			[]string{"2026-02-02T00:00:00Z", "2026-02-09T00:00:00Z"}},
		{"yearly", "@yearly", "", "2026-06-01T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}},
		{"annually", "@annually", "", "2026-06-01T00:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		{"monthly", "@monthly", "", "2026-06-01T00:00:00Z", []string{"2026-07-01T00:00:00Z"}},
		{"weekly", "@weekly", "", "2026-06-01T00:00:00Z", []string{"2026-06-07T00:00:00Z"}},
		{"daily", "@daily", "", "2026-06-01T00:00:00Z", []string{"2026-06-02T00:00:00Z"}},
		{"midnight", "@midnight", "", "2026-06-01T00:00:00Z", []string{"2026-06-02T00:00:00Z"}},
		{"hourly", "@hourly", "", "2026-06-01T00:00:00Z", []string{"2026-06-01T01:00:00Z"}},
		{"zone in winter and summer", "0 9 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z",
			[]string{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"}},
		{"zone west of utc", "0 9 * * *", "America/New_York", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T14:00:00Z", "2026-01-02T14:00:00Z"}},
		{"zone with half-hour offset", "0 0 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T18:30:00Z", "2026-01-02T18:30:00Z"}},
		{"far future zone rules", "30 2 * * *", "Europe/Berlin", "2050-03-26T12:00:00Z", // 2050-03-27 is a spring-forward day
			[]string{"2050-03-27T01:00:00Z", "2050-03-28T00:30:00Z"}},
		{"last day of a leap year under a zone's footer rule", "30 2 * * *", "Europe/Berlin", "2040-12-30T12:00:00Z", // golang/go#81583
			[]string{"2040-12-31T01:30:00Z", "2041-01-01T01:30:00Z", "2041-01-02T01:30:00Z"}},
		{"far away every second of a fall-back day", "* * * 25 10 *", "Europe/Berlin", "2026-01-01T00:00:00Z",
			[]string{"2026-10-24T22:00:00Z", "2026-10-24T22:00:01Z"}},
		{"far away repeated time", "30 2 25 10 *", "Europe/Berlin", "2026-01-01T00:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2027-10-25T00:30:00Z"}},
		{"far away skipped time", "30 2 29 3 *", "Europe/Berlin", "2026-01-01T00:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2027-03-29T00:30:00Z"}},
		{"far away hourly through a fall-back", "0 30 * 1 11 *", "America/New_York", "2026-01-01T00:00:00Z",
			[]string{"2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z", "2026-11-01T08:30:00Z"}},
		{"before 1970", "0 0 1 1 *", "", "1960-06-01T00:00:00Z",
			[]string{"1961-01-01T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, tt.expr, tt.tz)
			n := len(tt.want)
			if n == 0 {
				n = 3
			}
			requireTimes(t, NextN(s, utc(t, tt.from), n), tt.want)
		})
	}
}

func TestCronNextAcceptsAnyLocation(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "0 9 * * *", "Europe/Berlin")
	from := utc(t, "2026-06-01T10:00:00Z")
	want := s.Next(from)
	for _, zone := range []string{"America/New_York", "Asia/Tokyo", "Europe/Berlin"} {
		got := s.Next(from.In(mustZone(t, zone)))
		require.Equal(t, want.String(), got.String(), "got %v, want %v", got, want)
	}
	got := s.Next(time.Now())
	require.Equal(t, time.UTC, got.Location(), "got %v, want %v", got.Location(), time.UTC)
}

// TestCronNextDailyForCenturies follows a daily schedule day by day far into
// the range served by zones' footer rules, checking each local fire time.
func TestCronNextDailyForCenturies(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney"} {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, "0 30 2 * * *", zone)
			loc := mustZone(t, zone)
			prev := time.Date(2026, 1, 1, 12, 0, 0, 0, loc)
			for range 100 * 366 {
				next := s.Next(prev)
				local := next.In(loc)
				wantDay := prev.In(loc).AddDate(0, 0, 1)
				require.Equal(t, wantDay.Format(time.DateOnly), local.Format(time.DateOnly),
					"got %v, want the day after %v", local, prev.In(loc))
				clock := local.Format(time.TimeOnly)
				if clock != "02:30:00" {
					// Only a spring-forward gap may move the fire, to its end.
					before := next.Add(-time.Second).In(loc)
					require.Equal(t, "03:00:00", clock, "got %v, want 02:30:00 or a gap end", local)
					require.NotEqual(t, before.Format("-0700"), local.Format("-0700"), "got %v, want a gap end", local)
				}
				prev = next
			}
		})
	}
}

func TestCronNextConcurrent(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "*/15 * * * *", "Europe/Berlin")
	from := utc(t, "2026-10-24T12:00:00Z")
	want := formatTimes(NextN(s, from, 200))
	results := make([][]string, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = formatTimes(NextN(s, from, 200)) })
	}
	wg.Wait()
	for _, got := range results {
		require.Equal(t, want, got, "got %v, want %v", got, want)
	}
}
