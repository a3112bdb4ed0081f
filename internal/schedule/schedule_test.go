package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNextN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr string
		n          int
		want       []string
	}{
		{"three", "0 0 * * *", 3, []string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
		{"one", "0 0 * * *", 1, []string{"2026-01-02T00:00:00Z"}},
		{"zero", "0 0 * * *", 0, nil},
		{"negative", "0 0 * * *", -1, nil},
		{"never", "0 0 30 2 *", 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, tt.expr, "")
			requireTimes(t, NextN(s, utc(t, "2026-01-01T00:00:00Z"), tt.n), tt.want)
		})
	}
}

func TestBetween(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr    string
		from, to      string
		limit         int
		want          []string
		wantTruncated bool
	}{
		{"excludes from, includes to", "*/10 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z", 10,
			[]string{"2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z", "2026-01-01T00:30:00Z"}, false},
		{"exactly the limit", "*/10 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z", 3,
			[]string{"2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z", "2026-01-01T00:30:00Z"}, false},
		{"truncated", "*/10 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 2,
			[]string{"2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z"}, true},
		{"missed a day of seconds", "* * * * * *", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", 2,
			[]string{"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"}, true},
		{"zero limit with fires", "*/10 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 0, nil, true},
		{"zero limit without fires", "0 0 * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 0, nil, false},
		{"nothing due", "0 0 * * *", "2026-01-01T00:00:00Z", "2026-01-01T23:59:59Z", 10, nil, false},
		{"empty interval", "* * * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", 10, nil, false},
		{"reversed interval", "* * * * * *", "2026-01-01T00:00:10Z", "2026-01-01T00:00:00Z", 10, nil, false},
		{"never", "0 0 30 2 *", "2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z", 10, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, tt.expr, "")
			got, truncated := Between(s, utc(t, tt.from), utc(t, tt.to), tt.limit)
			requireTimes(t, got, tt.want)
			require.Equal(t, tt.wantTruncated, truncated, "got truncated %v, want %v", truncated, tt.wantTruncated)
		})
	}
}

func TestBetweenWithEvery(t *testing.T) {
	t.Parallel()
	s, err := Every(90*time.Second, utc(t, "2026-01-01T00:00:00Z"))
	require.NoError(t, err)
	got, truncated := Between(s, utc(t, "2026-01-01T00:01:00Z"), utc(t, "2026-01-01T00:06:00Z"), 10)
	requireTimes(t, got, []string{"2026-01-01T00:01:30Z", "2026-01-01T00:03:00Z", "2026-01-01T00:04:30Z", "2026-01-01T00:06:00Z"})
	require.False(t, truncated, "got truncated %v, want %v", truncated, false)
}
