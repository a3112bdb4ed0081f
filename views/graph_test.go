package views

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/views/layered"
)

// The issue's job: fetch -> b -> c -> d, fetch -> d, fetch -> f,
// d -> publish, f -> publish.
func issueJob() ([]GraphNode, []GraphEdge) {
	nodes := []GraphNode{{ID: "fetch", State: "succeeded"}, {ID: "b", State: "succeeded"}, {ID: "c", State: "failed"},
		{ID: "d", State: "upstream_failed"}, {ID: "f", State: "succeeded"}, {ID: "publish", State: "upstream_failed"}}
	edges := []GraphEdge{{From: "fetch", To: "b"}, {From: "b", To: "c"}, {From: "c", To: "d"}, {From: "fetch", To: "d"}, {From: "fetch", To: "f"}, {From: "d", To: "publish"}, {From: "f", To: "publish"}}
	return nodes, edges
}

// The drawing depends on the graph, not on the order it is given in: a
// job's page and its run's page draw and list tasks alike.
func TestLayoutIgnoresInputOrder(t *testing.T) {
	t.Parallel()
	nodes, edges := issueJob()
	want, err := LayoutGraph(nodes, edges)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	for range 10 {
		r.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
		r.Shuffle(len(edges), func(i, j int) { edges[i], edges[j] = edges[j], edges[i] })
		got, err := LayoutGraph(nodes, edges)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Equal(t, []string{"fetch", "b", "f", "c", "d", "publish"}, want.Order())
}

func TestLayoutGraph(t *testing.T) {
	t.Parallel()
	nodes, edges := issueJob()
	g, err := LayoutGraph(nodes, edges)
	require.NoError(t, err)
	require.Len(t, g.Edges, len(edges))
	var legend []string
	for _, s := range g.Legend {
		legend = append(legend, s.State)
	}
	require.Equal(t, []string{"succeeded", "failed", "upstream_failed"}, legend, "the states drawn, in the palette's order")
	for _, e := range g.Edges {
		path := e.Path()
		require.True(t, strings.HasPrefix(path, "M"), "path %q", path)
	}

	_, err = LayoutGraph(nodes, append(edges, GraphEdge{From: "fetch", To: "nowhere"}))
	require.ErrorContains(t, err, "no such task")

	big := make([]GraphNode, MaxDrawnTasks+1)
	for i := range big {
		big[i] = GraphNode{ID: strings.Repeat("t", i+1)}
	}
	g, err = LayoutGraph(big, nil)
	require.NoError(t, err)
	require.False(t, g.Drawn())
	require.Equal(t, MaxDrawnTasks+1, g.Tasks)
	g, err = LayoutAll(big, nil)
	require.NoError(t, err)
	require.True(t, g.Drawn(), "the export draws any size")
}

func TestEdgePath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		e    PlacedEdge
		want string
	}{
		{"straight", PlacedEdge{Points: pts(10, 5, 60, 5)}, "M10,5 H60"},
		{"across a gap", PlacedEdge{Points: pts(10, 5, 30, 5, 70, 25.25, 90, 25.25)}, "M10,5 H30 C50,5 50,25.3 70,25.3 H90"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.e.Path()
			require.Equal(t, tc.want, got, "got %v, want %v", got, tc.want)
		})
	}
}

func pts(xy ...float64) []layered.Point {
	out := make([]layered.Point, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		out = append(out, layered.Point{X: xy[i], Y: xy[i+1]})
	}
	return out
}

func TestNum(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "0"}, {12, "12"}, {12.25, "12.3"}, {12.04, "12"}, {-3.45, "-3.5"}, {-0.04, "0"}, {0.96, "1"}, {1234.5, "1234.5"}} {
		got := num(tc.in)
		require.Equal(t, tc.want, got, "num(%v): got %v, want %v", tc.in, got, tc.want)
	}
}
