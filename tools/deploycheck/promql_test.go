package deploycheck

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/stretchr/testify/require"
)

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, expr string
		want       []string
		err        string
	}{
		{name: "plain", expr: `herald_overdue_ticks > 0`, want: []string{"herald_overdue_ticks"}},
		{name: "grafana variables", expr: `sum by (le) (rate(herald_fire_lateness_seconds_bucket{job=~"$job", x="${inst:regex}"}[$__rate_interval]))`, want: []string{"herald_fire_lateness_seconds_bucket"}},
		{name: "several, sorted and unique", expr: `sum(rate(b_total[5m])) / sum(rate(a_total[5m])) and sum(rate(b_total[1m])) > 0`, want: []string{"a_total", "b_total"}},
		{name: "name in a matcher", expr: `{__name__="herald_database_up"} == 0`, want: []string{"herald_database_up"}},
		{name: "absent", expr: `absent(herald_database_up)`, want: []string{"herald_database_up"}},
		{name: "subquery and offset", expr: `max_over_time(deriv(herald_queue_backlog[5m])[30m:1m]) > herald_queue_backlog offset 1h`, want: []string{"herald_queue_backlog"}},
		{name: "no metric name", expr: `{job="herald"}`, err: "names no metric"},
		{name: "not PromQL", expr: `sum(`, err: "unclosed left parenthesis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MetricNames(tc.expr)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestBaseMetric(t *testing.T) {
	t.Parallel()
	families := map[string]dto.MetricType{
		"herald_fire_lateness_seconds": dto.MetricType_HISTOGRAM,
		"herald_deliveries_total":      dto.MetricType_COUNTER,
		"go_gc_duration_seconds":       dto.MetricType_SUMMARY,
	}
	for _, tc := range []struct{ series, want string }{
		{"herald_fire_lateness_seconds_bucket", "herald_fire_lateness_seconds"},
		{"herald_fire_lateness_seconds_count", "herald_fire_lateness_seconds"},
		{"herald_fire_lateness_seconds_sum", "herald_fire_lateness_seconds"},
		{"herald_fire_lateness_seconds", "herald_fire_lateness_seconds"},
		{"herald_deliveries_total", "herald_deliveries_total"},
		{"herald_deliveries_total_bucket", ""},
		{"herald_deliveries_total_count", ""},
		{"go_gc_duration_seconds_count", "go_gc_duration_seconds"},
		{"go_gc_duration_seconds_bucket", ""},
		{"herald_missing_count", ""},
	} {
		t.Run(tc.series, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, BaseMetric(tc.series, families))
		})
	}
}
