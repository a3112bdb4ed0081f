package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mustParse parses a cron expression or fails the test.
func mustParse(t testing.TB, expr, tz string) Schedule {
	t.Helper()
	s, err := ParseCron(expr, tz)
	require.NoError(t, err, "ParseCron(%q, %q)", expr, tz)
	return s
}

// mustZone loads an IANA zone or fails the test.
func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// utc parses an RFC 3339 time or fails the test.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts
}

// formatTimes renders times as RFC 3339 strings, keeping their zone, so that
// a result that is not in UTC shows up as a mismatch.
func formatTimes(times []time.Time) []string {
	out := make([]string, len(times))
	for i, ts := range times {
		out[i] = ts.Format(time.RFC3339Nano)
	}
	return out
}

// requireTimes checks a sequence of fire times against RFC 3339 strings.
func requireTimes(t testing.TB, got []time.Time, want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	gotText := formatTimes(got)
	require.Equal(t, want, gotText, "got %v, want %v", gotText, want)
}
