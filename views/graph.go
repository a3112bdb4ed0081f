package views

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-sched/herald/views/layered"
)

// MaxDrawnTasks is the largest topology a page draws; a bigger one is left
// to the graph export (GET /v1/jobs/{id}/graph?format=svg or dot).
const MaxDrawnTasks = 300

// GraphNode is a task in a topology.
type GraphNode struct {
	ID    string
	State string // the task's state in the run shown, "" for none
}

// GraphEdge is a dependency: To runs after From. RunIf is To's run_if:
// edges into a failure handler (any_failed) and into a task that runs
// whatever its parents' outcomes (all_done) are drawn apart.
type GraphEdge struct{ From, To, RunIf string }

// Graph is a laid-out topology, left to right (package layered).
type Graph struct {
	// Nodes are in graph order: by column, then top to bottom.
	Nodes []PlacedNode
	Edges []PlacedEdge
	// Width and Height are the drawing's size in pixels.
	Width, Height float64
	// Tasks is the task count; nothing is placed above MaxDrawnTasks.
	Tasks int
	// Legend lists the states drawn, in the palette's order.
	Legend []StateStyle
}

// Drawn says whether the graph was laid out.
func (g Graph) Drawn() bool { return len(g.Nodes) > 0 }

// Order returns the task ids in graph order (nil when not drawn): the order
// the pages list a run's tasks in.
func (g Graph) Order() []string {
	ids := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ids[i] = n.ID
	}
	return ids
}

// PlacedNode is a node with its box and the lines of its label.
type PlacedNode struct {
	GraphNode
	layered.Box
	Lines []string
	Style StateStyle
}

// LabelLine is a line of a node's label and where its baseline goes.
type LabelLine struct {
	Text string
	Y    string
}

// Label returns the label's lines, centred in the box.
func (n PlacedNode) Label() []LabelLine {
	out := make([]LabelLine, len(n.Lines))
	top := n.Y + n.H/2 - float64(len(n.Lines))*lineHeight/2
	for i, l := range n.Lines {
		out[i] = LabelLine{Text: l, Y: num(top + (float64(i)+0.5)*lineHeight)}
	}
	return out
}

// PlacedEdge is a dependency with its route.
type PlacedEdge struct {
	From, To, RunIf string
	Points          []layered.Point
}

// Class is the edge's CSS classes: "edge", plus "edge-failure" into a
// failure handler (run_if any_failed: red, dashed) or "edge-always" into a
// task that runs whatever its parents' outcomes (all_done: dotted).
func (e PlacedEdge) Class() string {
	switch e.RunIf {
	case "any_failed":
		return "edge edge-failure"
	case "all_done":
		return "edge edge-always"
	}
	return "edge"
}

// Title is the edge's tooltip: "a → b", with b's run_if when it is not the
// default.
func (e PlacedEdge) Title() string {
	t := e.From + " → " + e.To
	if e.RunIf != "" && e.RunIf != "all_succeeded" {
		t += " (" + e.RunIf + ")"
	}
	return t
}

// Path is the edge's SVG path: horizontal runs through the columns, and an
// S curve across each gap between columns (its control points stay in
// the gap, where no box is).
func (e PlacedEdge) Path() string {
	b := make([]byte, 0, 16+28*len(e.Points))
	p := e.Points[0]
	b = append(b, 'M')
	b = appendNum(b, p.X)
	b = append(b, ',')
	b = appendNum(b, p.Y)
	for _, q := range e.Points[1:] {
		if q.Y == p.Y {
			b = append(b, " H"...)
			b = appendNum(b, q.X)
		} else {
			mid := (p.X + q.X) / 2
			b = append(b, " C"...)
			b = appendNum(b, mid)
			b = append(b, ',')
			b = appendNum(b, p.Y)
			b = append(b, ' ')
			b = appendNum(b, mid)
			b = append(b, ',')
			b = appendNum(b, q.Y)
			b = append(b, ' ')
			b = appendNum(b, q.X)
			b = append(b, ',')
			b = appendNum(b, q.Y)
		}
		p = q
	}
	return string(b)
}

// num formats a coordinate to a tenth of a pixel.
func num(f float64) string { return string(appendNum(nil, f)) }

func appendNum(b []byte, f float64) []byte {
	tenths := int64(math.Round(f * 10))
	if tenths < 0 {
		b = append(b, '-')
		tenths = -tenths
	}
	b = strconv.AppendInt(b, tenths/10, 10)
	if d := tenths % 10; d != 0 {
		b = append(b, '.', byte('0'+d))
	}
	return b
}

// spacing is the pages' spacing of a topology.
var spacing = layered.Spacing{LayerGap: 56, NodeGap: 14, EdgeGap: 8, PortGap: 7, Margin: 12}

// LayoutGraph lays out a topology for a page; a graph of more than
// MaxDrawnTasks is left unplaced.
func LayoutGraph(nodes []GraphNode, edges []GraphEdge) (Graph, error) {
	if len(nodes) > MaxDrawnTasks {
		return Graph{Tasks: len(nodes)}, nil
	}
	return LayoutAll(nodes, edges)
}

// LayoutAll lays out a topology whatever its size (the SVG export). The
// drawing depends on the graph only, not on the order nodes and edges come
// in: a job's topology and its runs' are drawn alike.
func LayoutAll(nodes []GraphNode, edges []GraphEdge) (Graph, error) {
	g := Graph{Tasks: len(nodes)}
	if len(nodes) == 0 {
		return g, nil
	}
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b GraphNode) int { return strings.Compare(a.ID, b.ID) })
	edges = slices.Clone(edges)
	slices.SortFunc(edges, func(a, b GraphEdge) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To))
	})
	index := make(map[string]int, len(nodes))
	sizes := make([]layered.Size, len(nodes))
	lines := make([][]string, len(nodes))
	for i, n := range nodes {
		index[n.ID] = i
		lines[i] = labelLines(n.ID)
		sizes[i] = boxSize(lines[i])
	}
	in := make([]layered.Edge, len(edges))
	for i, e := range edges {
		from, ok1 := index[e.From]
		to, ok2 := index[e.To]
		if !ok1 || !ok2 {
			return Graph{}, fmt.Errorf("views: edge %s -> %s: no such task", e.From, e.To)
		}
		in[i] = layered.Edge{From: from, To: to}
	}
	d, err := layered.Layout(sizes, in, spacing)
	if err != nil {
		return Graph{}, err
	}
	g.Width, g.Height = math.Ceil(d.Width), math.Ceil(d.Height)
	present := map[string]bool{}
	for _, i := range d.Order {
		n := nodes[i]
		g.Nodes = append(g.Nodes, PlacedNode{GraphNode: n, Box: d.Boxes[i], Lines: lines[i], Style: StyleOf(n.State)})
		present[n.State] = true
	}
	for i, e := range edges {
		g.Edges = append(g.Edges, PlacedEdge{From: e.From, To: e.To, RunIf: e.RunIf, Points: d.Routes[i].Points})
	}
	for _, s := range Palette {
		if present[s.State] {
			g.Legend = append(g.Legend, s)
			delete(present, s.State)
		}
	}
	for _, n := range g.Nodes { // states the palette does not know, once each
		if present[n.State] {
			g.Legend = append(g.Legend, n.Style)
			delete(present, n.State)
		}
	}
	return g, nil
}

// LegendEntry is a state in the standalone SVG's legend, with its place.
type LegendEntry struct {
	StateStyle
	X, Y float64
}

// legendHeight is the room the standalone SVG gives its legend.
const legendHeight = 28

// SVGLegend places the legend in a row under the drawing (the standalone
// SVG; the pages write theirs in HTML).
func (g Graph) SVGLegend() []LegendEntry {
	out := make([]LegendEntry, len(g.Legend))
	x := spacing.Margin
	for i, s := range g.Legend {
		out[i] = LegendEntry{StateStyle: s, X: x, Y: g.Height + 4}
		x += 14 + 6 + float64(len(s.Label))*7 + 16
	}
	return out
}
