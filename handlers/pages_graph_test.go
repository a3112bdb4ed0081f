package handlers_test

import (
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/views/layered"
)

// drawnGraph is a topology as the browser rendered it.
type drawnGraph struct {
	Nodes []drawnNode
	Edges []drawnEdge
}

type drawnNode struct {
	ID, Label  string
	X, Y, W, H float64
	// The label's bounding box.
	TX, TY, TW, TH float64
}

type drawnEdge struct {
	From, To string
	// Points are the path sampled every 2 px, its end included.
	Points [][2]float64
	// Arrow says the path ends with a marker that draws something.
	Arrow bool
}

// readGraph reads the rendered geometry of the page's topology (or of a
// standalone SVG document): boxes, labels and edge paths.
const readGraph = `(() => {
  const svg = document.querySelector('svg[data-testid="topology"]') || document.documentElement;
  const nodes = [...svg.querySelectorAll('g.node')].map(g => {
    const r = g.querySelector('rect').getBBox(), t = g.querySelector('text'), tb = t.getBBox();
    return {ID: g.getAttribute('data-id'), Label: t.textContent, X: r.x, Y: r.y, W: r.width, H: r.height,
      TX: tb.x, TY: tb.y, TW: tb.width, TH: tb.height};
  });
  const edges = [...svg.querySelectorAll('path.edge')].map(p => {
    const len = p.getTotalLength(), pts = [];
    for (let s = 0; s < len; s += 2) { const q = p.getPointAtLength(s); pts.push([q.x, q.y]); }
    const end = p.getPointAtLength(len); pts.push([end.x, end.y]);
    const ref = (p.getAttribute('marker-end') || '').match(/url\(#([^)]+)\)/);
    const shape = ref && svg.querySelector('marker#' + ref[1] + ' path');
    return {From: p.getAttribute('data-from'), To: p.getAttribute('data-to'), Points: pts,
      Arrow: !!shape && shape.getTotalLength() > 0};
  });
  return {Nodes: nodes, Edges: edges};
})()`

// checkGraph checks a rendered topology against the job's dependencies:
// an edge with an arrowhead for each, from its source's right side to its
// target's left side, through no box it does not connect, and every label
// whole and inside its box.
func checkGraph(t *testing.T, g drawnGraph, deps map[string][]string) {
	t.Helper()
	var want, got []string
	for task, on := range deps {
		for _, d := range on {
			want = append(want, d+" -> "+task)
		}
	}
	boxes := map[string]layered.Box{}
	for _, n := range g.Nodes {
		boxes[n.ID] = layered.Box{X: n.X, Y: n.Y, W: n.W, H: n.H}
		require.Equal(t, n.ID, n.Label, "the label of %s is cut", n.ID)
		require.True(t, n.TX >= n.X && n.TX+n.TW <= n.X+n.W && n.TY >= n.Y && n.TY+n.TH <= n.Y+n.H,
			"the label of %s (%v) overflows its box", n.ID, n)
	}
	require.Len(t, boxes, len(deps), "a box per task")
	for _, e := range g.Edges {
		got = append(got, e.From+" -> "+e.To)
		require.True(t, e.Arrow, "%s -> %s has no arrowhead", e.From, e.To)
		from, to := boxes[e.From], boxes[e.To]
		first, last := e.Points[0], e.Points[len(e.Points)-1]
		require.InDelta(t, from.X+from.W, first[0], 0.5, "%s -> %s does not leave %s's right side", e.From, e.To, e.From)
		require.True(t, first[1] > from.Y && first[1] < from.Y+from.H, "%s -> %s leaves %s off its side", e.From, e.To, e.From)
		require.InDelta(t, to.X, last[0], 0.5, "%s -> %s does not end at %s's left side", e.From, e.To, e.To)
		require.True(t, last[1] > to.Y && last[1] < to.Y+to.H, "%s -> %s ends off %s's side", e.From, e.To, e.To)
		for i := 1; i < len(e.Points); i++ {
			p := layered.Point{X: e.Points[i-1][0], Y: e.Points[i-1][1]}
			q := layered.Point{X: e.Points[i][0], Y: e.Points[i][1]}
			for id, b := range boxes {
				if id != e.From && id != e.To {
					require.False(t, b.Hits(p, q), "%s -> %s passes through %s (%v) between %v and %v", e.From, e.To, id, b, p, q)
				}
			}
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	require.Equal(t, want, got, "an edge per dependency: got %v, want %v", got, want)
}

// The topology on a job's page, its run's page and in the SVG export is
// checked from the geometry Chromium renders; the run's timeline shows a
// bar per attempt; the pages list tasks in one order.
func TestTopologyAndTimelineInTheBrowser(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	var flaky atomic.Int32
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		switch r.Path {
		case "/flaky":
			if flaky.Add(1) <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"firmware":{"version":"2024.11.3-rc1","regions":["eu-west-1","eu-central-1"]}}`))
	})
	// a -> d skips b and c; publish is a fan-in with skip edges; one id
	// is too long for a line.
	const long = "aggregate-regional-gateway-reports-eu-west"
	deps := map[string][]string{
		"a": nil, "b": {"a"}, "c": {"b"}, "d": {"c", "a"}, "e": {"a"},
		"flaky": {"a"}, "publish": {"d", "e", "flaky", "b"}, long: {"publish", "e"},
	}
	var tasks []any
	for _, id := range []string{"a", "b", "c", "d", "e", "flaky", "publish", long} {
		task := map[string]any{"id": id, "request": map[string]any{"url": rc.URL + "/" + id}}
		if len(deps[id]) > 0 {
			task["depends_on"] = deps[id]
		}
		switch id {
		case "flaky":
			task["retry"] = map[string]any{"max_attempts": 3, "initial_interval": "100ms", "max_interval": "200ms"}
		case "a":
			task["request"] = map[string]any{"url": rc.URL + "/slow"}
		}
		tasks = append(tasks, task)
	}
	jobID, runID := startRun(t, h, map[string]any{"name": "gateway sync", "tasks": tasks})
	heraldtest.Eventually(t, 30*time.Second, func() bool {
		var r struct{ State string }
		h.Do(http.MethodGet, "/v1/runs/"+runID, nil).JSON(t, &r)
		return r.State == "succeeded"
	}, "the run succeeds")

	ctx := browser(t)
	var (
		jobGraph, runGraph, export drawnGraph
		jobOrder, runOrder         []string
		tableOrder, timelineOrder  []string
		bars                       []string
		barsApart                  bool
		legend, elapsed            string
		jobPNG, runPNG             []byte
	)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(h.Server.URL+"/jobs/"+jobID),
		chromedp.WaitVisible(`[data-testid="topology"]`),
		chromedp.Evaluate(readGraph, &jobGraph),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="topology"] g.node')].map(g => g.getAttribute('data-id'))`, &jobOrder),
		chromedp.FullScreenshot(&jobPNG, 100),

		chromedp.Navigate(h.Server.URL+"/runs/"+runID),
		chromedp.WaitVisible(`[data-testid="timeline"]`),
		chromedp.Evaluate(readGraph, &runGraph),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="topology"] g.node')].map(g => g.getAttribute('data-id'))`, &runOrder),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="tasks"] > tbody > tr')].map(r => r.getAttribute('data-task'))`, &tableOrder),
		chromedp.Evaluate(`[...document.querySelectorAll('.tl-row')].map(r => r.getAttribute('data-task'))`, &timelineOrder),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="timeline-flaky"] .tl-bar')].map(b => b.getAttribute('data-attempt') + ' ' + b.getAttribute('data-outcome'))`, &bars),
		// The attempts' requests, left to right, apart.
		chromedp.Evaluate(`(() => {
			const r = [...document.querySelectorAll('[data-testid="timeline-flaky"] .tl-sending')].map(s => s.getBoundingClientRect());
			return r.length === 3 && r.every((x, i) => i === 0 || r[i-1].right <= x.left + 0.5);
		})()`, &barsApart),
		chromedp.Text(`[data-testid="legend"]`, &legend),
		chromedp.Text(`[data-testid="run-elapsed"]`, &elapsed),
		chromedp.FullScreenshot(&runPNG, 100),

		// The export, a standalone SVG (the browser sends the API key).
		chromedp.Navigate(h.Server.URL+"/v1/jobs/"+jobID+"/graph?format=svg"),
		chromedp.WaitReady(`svg`),
		chromedp.Evaluate(readGraph, &export),
	))
	checkGraph(t, jobGraph, deps)
	checkGraph(t, runGraph, deps)
	checkGraph(t, export, deps)

	require.Equal(t, []string{"1 retrying", "2 retrying", "3 succeeded"}, bars, "a bar per attempt: got %v", bars)
	require.True(t, barsApart, "the attempts' bars overlap or are out of order")
	require.Equal(t, jobOrder, runOrder, "the job's and the run's topologies order tasks alike")
	require.Equal(t, runOrder, tableOrder, "the task table is in graph order")
	require.Equal(t, runOrder, timelineOrder, "the timeline is in graph order")
	require.Equal(t, "a", runOrder[0])
	require.Equal(t, long, runOrder[len(runOrder)-1])
	require.Contains(t, legend, "succeeded")
	require.Regexp(t, `^took \d`, elapsed)

	if dir := os.Getenv("HERALD_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "job.png"), jobPNG, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "run.png"), runPNG, 0o644))
	}
}
