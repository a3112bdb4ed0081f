package layered

import (
	"errors"
	"fmt"
)

// Size is a box's size: W along the flow (left to right), H across it.
type Size struct{ W, H float64 }

// Edge joins two nodes, by index: To comes after From.
type Edge struct{ From, To int }

// Point is a position in the drawing; y grows downwards.
type Point struct{ X, Y float64 }

// Box is a placed node: its top-left corner and size, its layer (column)
// and its position in the layer, from the top.
type Box struct {
	X, Y, W, H float64
	Layer, Pos int
}

// Center is the middle of the box.
func (b Box) Center() Point { return Point{b.X + b.W/2, b.Y + b.H/2} }

// Route is an edge's path from its source's box to its target's box: a
// polyline whose first point is on the source's right side and whose last
// is on the target's left side. A segment between two points at the same
// height runs inside a column, in a band of its own; any other segment
// crosses the gap between two columns, where there is no box, so a
// renderer may draw it as a curve as long as the curve stays between the
// segment's two x coordinates.
type Route struct{ Points []Point }

// Spacing sets the distances of a drawing, in the units of the sizes.
type Spacing struct {
	// LayerGap is the least horizontal gap between two columns; a gap
	// that steep segments cross widens up to three times this.
	LayerGap float64
	// NodeGap is the vertical gap between two boxes of a column.
	NodeGap float64
	// EdgeGap is the vertical gap between two edges crossing a column, and
	// between such an edge and a box.
	EdgeGap float64
	// PortGap is the largest vertical distance between the ends of two
	// edges on the same side of a box.
	PortGap float64
	// Margin surrounds the drawing.
	Margin float64
}

// DefaultSpacing suits boxes of about 30 to 50 units high.
var DefaultSpacing = Spacing{LayerGap: 56, NodeGap: 14, EdgeGap: 8, PortGap: 8, Margin: 10}

// Drawing is a laid out graph.
type Drawing struct {
	// Boxes holds each node's box, in the input's order.
	Boxes []Box
	// Routes holds each edge's route, in the input's order.
	Routes []Route
	// Order lists the nodes by layer, then by position in the layer: the
	// order a reader meets them, left to right and top to bottom.
	Order []int
	// Layers is the number of columns.
	Layers int
	// Width and Height are the drawing's size, margins included.
	Width, Height float64
	// Crossings counts the edge crossings between columns that the order
	// chosen leaves (the ends of edges on a box do not count).
	Crossings int
	// Dummies counts the dummy nodes: the column crossings of edges that
	// skip columns.
	Dummies int
}

// ErrCycle is returned for edges that form a cycle.
var ErrCycle = errors.New("layered: the edges form a cycle")

// Layout draws the graph of len(sizes) nodes and the edges given, which
// must form a directed acyclic graph without self-loops. The drawing
// depends on the input's order only to break ties: give nodes and edges in
// a canonical order for the same graph to be drawn the same way.
func Layout(sizes []Size, edges []Edge, sp Spacing) (Drawing, error) {
	n := len(sizes)
	for i, e := range edges {
		if e.From < 0 || e.From >= n || e.To < 0 || e.To >= n {
			return Drawing{}, fmt.Errorf("layered: edge %d (%d -> %d) refers to no node", i, e.From, e.To)
		}
		if e.From == e.To {
			return Drawing{}, fmt.Errorf("layered: edge %d is a self-loop on %d", i, e.From)
		}
	}
	if n == 0 {
		return Drawing{Width: 2 * sp.Margin, Height: 2 * sp.Margin}, nil
	}
	layer, layers, err := longestPath(n, edges)
	if err != nil {
		return Drawing{}, err
	}
	p := newProper(n, edges, layer, layers)
	o := newOrdering(p)
	crossings := o.minimize(p)
	heights := make([]float64, p.vertices())
	for v := range n {
		heights[v] = sizes[v].H
	}
	y := place(p, o, heights, sp)
	d := route(p, o, sizes, edges, y, sp)
	d.Crossings = crossings
	d.Dummies = p.vertices() - n
	d.Layers = layers
	d.Order = make([]int, 0, n)
	for _, lay := range o.layers {
		for _, v := range lay {
			if int(v) < n {
				d.Order = append(d.Order, int(v))
			}
		}
	}
	return d, nil
}
