package deploycheck

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// metricsWanted are metrics the dashboard and rules rely on being present
// (with these labels) in every scrape, even before anything happened.
var metricsWanted = map[string][]string{
	"herald_database_up":              nil,
	"herald_endpoints_open":           nil,
	"herald_overdue_ticks":            nil,
	"herald_replicas":                 {"role", "state"},
	"herald_queue_backlog":            {"queue"},
	"herald_oldest_ready_age_seconds": {"queue"},
	"herald_fire_lateness_seconds":    nil,
	"herald_reclaimed_total":          nil,
	"herald_clock_offset_seconds":     nil,
}

// A real herald, built as the image builds it, registers a job that fires
// and delivers to a receiver; its /metrics then passes promtool check
// metrics, holds every metric the Grafana dashboard and the alert rules
// name, and its registration carries the version stamped at build.
func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	b := image(t)
	var hits atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	h := startHerald(t, b.Binary)
	eventually(t, time.Minute, func() bool {
		code, _ := h.get(t, "/readyz")
		return code == http.StatusOK
	}, "/readyz never answered 200")
	var job struct{ ID string }
	require.Equal(t, http.StatusCreated, h.call(t, http.MethodPost, "/v1/jobs", map[string]any{
		"name":     "deploycheck",
		"schedule": map[string]any{"delay": "0s"},
		"tasks":    []any{map[string]any{"request": map[string]any{"url": receiver.URL + "/hook"}}},
	}, &job))
	eventually(t, 30*time.Second, func() bool {
		var runs struct{ Data []struct{ State string } }
		require.Equal(t, http.StatusOK, h.call(t, http.MethodGet, "/v1/runs?job_id="+job.ID, nil, &runs))
		return len(runs.Data) == 1 && runs.Data[0].State == "succeeded"
	}, "the job's run did not succeed")
	require.EqualValues(t, 1, hits.Load())

	var replicas struct {
		Data []struct{ Version, Role, State string }
	}
	require.Equal(t, http.StatusOK, h.call(t, http.MethodGet, "/v1/replicas", nil, &replicas))
	require.NotEmpty(t, replicas.Data)
	require.Equal(t, testVersion, replicas.Data[0].Version, "the replica registers the version stamped at build")

	code, scrape := h.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code)

	t.Run("promtool check metrics", func(t *testing.T) {
		bin := promtool(t)
		cmd := exec.Command(bin, "check", "metrics")
		cmd.Stdin = bytes.NewReader(scrape)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool check metrics:\n%s", out)
	})

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(scrape))
	require.NoError(t, err)
	present := map[string]dto.MetricType{}
	for name, f := range families {
		present[name] = f.GetType()
	}

	t.Run("always present", func(t *testing.T) {
		for name, labels := range metricsWanted {
			f, ok := families[name]
			require.True(t, ok, "%s is in the scrape", name)
			for _, m := range f.GetMetric() {
				var got []string
				for _, l := range m.GetLabel() {
					got = append(got, l.GetName())
				}
				slices.Sort(got)
				require.Equal(t, labels, got, "%s's labels", name)
			}
		}
		require.Equal(t, 1.0, families["herald_database_up"].GetMetric()[0].GetGauge().GetValue())
	})

	t.Run("every metric the dashboard and the rules name", func(t *testing.T) {
		rules, err := ReadRules(rulesPath(t))
		require.NoError(t, err)
		recorded := rules.Recorded()
		var queries []Query
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				queries = append(queries, Query{Where: "rule " + r.Name(), Expr: r.Expr})
			}
		}
		d, err := ReadDashboard(dashboardPath(t))
		require.NoError(t, err)
		dq, err := d.Queries()
		require.NoError(t, err)
		queries = append(queries, dq...)
		var missing []string
		checked := map[string]bool{}
		for _, q := range queries {
			names, err := MetricNames(q.Expr)
			require.NoError(t, err, "%s", q.Where)
			for _, n := range names {
				if recorded[n] {
					continue
				}
				checked[n] = true
				if BaseMetric(n, present) == "" {
					missing = append(missing, q.Where+": "+n)
				}
			}
		}
		require.Empty(t, missing, "metrics named but not in herald's scrape")
		t.Logf("%d metric names checked against the scrape: %s", len(checked), strings.Join(slices.Sorted(maps.Keys(checked)), ", "))
	})
}
