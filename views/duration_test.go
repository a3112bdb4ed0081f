package views

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0.0 ms"},
		{"under a millisecond", 412 * time.Microsecond, "0.4 ms"},
		{"a few milliseconds", 4260 * time.Microsecond, "4.3 ms"},
		{"milliseconds", 812300 * time.Microsecond, "812 ms"},
		{"just under ten milliseconds", 9960 * time.Microsecond, "10 ms"},
		{"just under a second", 999600 * time.Microsecond, "1.0 s"},
		{"seconds", 12003100 * time.Microsecond, "12.0 s"},
		{"just under a minute", 59960 * time.Millisecond, "1 min 0 s"},
		{"minutes", 3*time.Minute + 4*time.Second + 300*time.Millisecond, "3 min 4 s"},
		{"hours", 2*time.Hour + 5*time.Minute + 10*time.Second, "2 h 5 min"},
		{"days", 76 * time.Hour, "3 d 4 h"},
		{"negative", -1500 * time.Millisecond, "-1.5 s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Duration(tc.in)
			require.Equal(t, tc.want, got, "got %v, want %v", got, tc.want)
		})
	}
}
