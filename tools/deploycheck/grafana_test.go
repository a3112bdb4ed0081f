package deploycheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func dashboardPath(t *testing.T) string {
	return filepath.Join(repoRoot(t), "deploy", "grafana", "herald.json")
}

// The dashboard imports anywhere: its data source is a variable of type
// Prometheus that every panel and query uses; its panels have distinct ids
// and sit on Grafana's 24-column grid without overlapping; every query
// parses as PromQL.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	d, err := ReadDashboard(dashboardPath(t))
	require.NoError(t, err)
	require.NotEmpty(t, d.Title)
	require.NotEmpty(t, d.UID)

	var dsVar bool
	for _, v := range d.Templating.List {
		if v.Name == "datasource" {
			require.Equal(t, "datasource", v.Type)
			require.JSONEq(t, `"prometheus"`, string(v.Query), "the datasource variable lists Prometheus data sources")
			dsVar = true
		}
	}
	require.True(t, dsVar, "a datasource variable")

	ids := map[int]bool{}
	var raw struct {
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			GridPos struct {
				H, W, X, Y int
			} `json:"gridPos"`
		} `json:"panels"`
	}
	readJSON(t, dashboardPath(t), &raw)
	type cell struct{ x, y int }
	taken := map[cell]int{}
	for _, p := range raw.Panels {
		require.False(t, ids[p.ID], "panel id %d is used twice", p.ID)
		ids[p.ID] = true
		g := p.GridPos
		require.True(t, g.W > 0 && g.H > 0 && g.X >= 0 && g.X+g.W <= 24, "panel %d: gridPos %+v on the 24-column grid", p.ID, g)
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				other, ok := taken[cell{x, y}]
				require.False(t, ok, "panels %d and %d overlap at %d,%d", other, p.ID, x, y)
				taken[cell{x, y}] = p.ID
			}
		}
	}

	var queries int
	for _, p := range d.AllPanels() {
		if p.Type == "row" {
			continue
		}
		require.NotNil(t, p.Datasource, "panel %q: datasource", p.Title)
		require.Equal(t, "${datasource}", p.Datasource.UID, "panel %q uses the datasource variable", p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has queries", p.Title)
		for _, tg := range p.Targets {
			require.NotNil(t, tg.Datasource, "panel %q target %s: datasource", p.Title, tg.RefID)
			require.Equal(t, "${datasource}", tg.Datasource.UID, "panel %q target %s", p.Title, tg.RefID)
		}
	}
	qs, err := d.Queries()
	require.NoError(t, err)
	for _, q := range qs {
		_, err := MetricNames(q.Expr)
		require.NoError(t, err, "%s", q.Where)
		queries++
	}
	require.NotZero(t, queries)
}
