package views

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLabelLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		id   string
		want []string
	}{
		{"short", "fetch", []string{"fetch"}},
		{"at the limit", "notify-after-broken-xy", []string{"notify-after-broken-xy"}},
		{"broken after a dash near the middle", "aggregate-regional-gateway-reports-eu-west", []string{"aggregate-regional-", "gateway-reports-eu-west"}},
		{"broken after an underscore", "flaky_firmware_manifest_check", []string{"flaky_firmware_", "manifest_check"}},
		{"no separator: the middle", strings.Repeat("x", 30), []string{strings.Repeat("x", 15), strings.Repeat("x", 15)}},
		{"longest id", strings.Repeat("ab-", 21) + "c", []string{"ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-", "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := labelLines(tc.id)
			require.Equal(t, tc.want, got, "got %v, want %v", got, tc.want)
			require.Equal(t, tc.id, strings.Join(got, ""), "the lines are the whole id")
			size := boxSize(got)
			for _, l := range got {
				require.LessOrEqual(t, float64(len(l))*charWidth+2*boxPadX, size.W, "line %q does not fit", l)
			}
		})
	}
}
