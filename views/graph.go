package views

import "strconv"

// MaxDrawnTasks is the largest topology a page draws; a bigger one is left
// to the graph export (GET /v1/jobs/{id}/graph?format=dot).
const MaxDrawnTasks = 300

// GraphNode is a task in a topology: Level is its depth (the longest path
// from a task without dependencies).
type GraphNode struct {
	ID    string
	Level int
	State string // the task's state in the run shown, "" for none
}

// GraphEdge is a dependency: To runs after From.
type GraphEdge struct{ From, To string }

// Graph is a laid-out topology: one column per level, left to right.
type Graph struct {
	Nodes         []PlacedNode
	Edges         []PlacedEdge
	Width, Height int
	// Tasks is the task count; nothing is placed above MaxDrawnTasks.
	Tasks int
}

// Drawn says whether the graph was laid out.
func (g Graph) Drawn() bool { return len(g.Nodes) > 0 }

// PlacedNode is a node with its box.
type PlacedNode struct {
	GraphNode
	X, Y, W, H int
}

// PlacedEdge is an edge from the right of one box to the left of another.
type PlacedEdge struct{ X1, Y1, X2, Y2 int }

// Path is the edge's SVG path: a horizontal S curve.
func (e PlacedEdge) Path() string {
	mid := strconv.Itoa((e.X1 + e.X2) / 2)
	return "M" + strconv.Itoa(e.X1) + "," + strconv.Itoa(e.Y1) +
		" C" + mid + "," + strconv.Itoa(e.Y1) + " " + mid + "," + strconv.Itoa(e.Y2) +
		" " + strconv.Itoa(e.X2) + "," + strconv.Itoa(e.Y2)
}

const (
	nodeW, nodeH = 140, 34
	colGap       = 60
	rowGap       = 14
	margin       = 10
)

// LayoutGraph places nodes in columns by level, in the order given; a
// graph of more than MaxDrawnTasks is left unplaced (a page's drawing).
func LayoutGraph(nodes []GraphNode, edges []GraphEdge) Graph {
	if len(nodes) > MaxDrawnTasks {
		return Graph{Tasks: len(nodes)}
	}
	return LayoutAll(nodes, edges)
}

// LayoutAll is LayoutGraph whatever the size (the SVG export).
func LayoutAll(nodes []GraphNode, edges []GraphEdge) Graph {
	g := Graph{Tasks: len(nodes)}
	if len(nodes) == 0 {
		return g
	}
	rows := map[int]int{}
	at := make(map[string]PlacedNode, len(nodes))
	for _, n := range nodes {
		p := PlacedNode{
			GraphNode: n,
			X:         margin + n.Level*(nodeW+colGap),
			Y:         margin + rows[n.Level]*(nodeH+rowGap),
			W:         nodeW, H: nodeH,
		}
		rows[n.Level]++
		at[n.ID] = p
		g.Nodes = append(g.Nodes, p)
		g.Width = max(g.Width, p.X+p.W+margin)
		g.Height = max(g.Height, p.Y+p.H+margin)
	}
	for _, e := range edges {
		from, ok1 := at[e.From]
		to, ok2 := at[e.To]
		if ok1 && ok2 {
			g.Edges = append(g.Edges, PlacedEdge{X1: from.X + from.W, Y1: from.Y + from.H/2, X2: to.X, Y2: to.Y + to.H/2})
		}
	}
	return g
}

// label shortens a task id to fit its box.
func label(id string) string {
	if r := []rune(id); len(r) > 18 {
		return string(r[:17]) + "…"
	}
	return id
}
