package layered

import (
	"cmp"
	"math"
	"slices"
)

// portInset keeps the ends of edges this far from a box's corners.
const portInset = 6

// route sets the columns' x coordinates, boxes, and edges' routes.
func route(p *proper, o *ordering, sizes []Size, edges []Edge, y []float64, sp Spacing) Drawing {
	n := p.n
	colW := make([]float64, p.layers)
	for v := range n {
		colW[p.layer[v]] = max(colW[p.layer[v]], sizes[v].W)
	}
	// A gap widens with the steepest segment that crosses it.
	steep := make([]float64, p.layers)
	for v := range p.vertices() {
		for _, u := range p.downs(int32(v)) {
			steep[p.layer[v]] = max(steep[p.layer[v]], math.Abs(y[u]-y[v]))
		}
	}
	colX := make([]float64, p.layers)
	x := sp.Margin
	for l := range p.layers {
		colX[l] = x
		x += colW[l] + sp.LayerGap + min(2*sp.LayerGap, steep[l]/8)
	}
	d := Drawing{
		Boxes:  make([]Box, n),
		Routes: make([]Route, len(edges)),
		Width:  colX[p.layers-1] + colW[p.layers-1] + sp.Margin,
	}
	for v := range n {
		l := p.layer[v]
		sz := sizes[v]
		d.Boxes[v] = Box{
			X: colX[l] + (colW[l]-sz.W)/2, Y: y[v] - sz.H/2, W: sz.W, H: sz.H,
			Layer: int(l), Pos: int(o.pos[v]),
		}
		d.Height = max(d.Height, y[v]+sz.H/2+sp.Margin)
	}
	for v := n; v < p.vertices(); v++ {
		d.Height = max(d.Height, y[v]+sp.Margin)
	}
	out, in := ports(p, sizes, y, sp)
	total := 0
	for _, e := range edges {
		total += 2 + 2*int(p.layer[e.To]-p.layer[e.From])
	}
	all := make([]Point, 0, total) // every route's points, in one allocation
	for i, e := range edges {
		from, to := d.Boxes[e.From], d.Boxes[e.To]
		span := to.Layer - from.Layer
		pts := all[len(all) : len(all) : len(all)+2+2*span]
		pts = append(pts, Point{from.X + from.W, out[p.firstSegment[i]]}, Point{colX[from.Layer] + colW[from.Layer], out[p.firstSegment[i]]})
		for l := int32(from.Layer) + 1; l < int32(to.Layer); l++ {
			at := y[p.trunk(e.From, l)]
			pts = append(pts, Point{colX[l], at}, Point{colX[l] + colW[l], at})
		}
		pts = append(pts, Point{colX[to.Layer], in[p.lastSegment[i]]}, Point{to.X, in[p.lastSegment[i]]})
		all = all[:len(all)+len(pts)]
		d.Routes[i] = Route{Points: dedupe(pts)}
	}
	return d
}

// ports returns where each segment leaves a node's box (out, by index of
// p.down) and enters one (in, by index of p.up): the segments on one side
// of a box spread over its height, in the order of the vertices at their
// other ends, so that they do not cross there.
func ports(p *proper, sizes []Size, y []float64, sp Spacing) (out, in []float64) {
	out = make([]float64, len(p.down))
	in = make([]float64, len(p.up))
	var slots []int32
	spread := func(v int, start, end int32, other []int32, at []float64) {
		slots = slots[:0]
		for s := start; s < end; s++ {
			slots = append(slots, s)
		}
		slices.SortStableFunc(slots, func(a, b int32) int { return cmp.Compare(y[other[a]], y[other[b]]) })
		step := 0.0
		if k := len(slots); k > 1 {
			step = min(sp.PortGap, max(0, sizes[v].H-2*portInset)/float64(k-1))
		}
		mid := float64(len(slots)-1) / 2
		for i, s := range slots {
			at[s] = y[v] + (float64(i)-mid)*step
		}
	}
	for v := range p.n {
		spread(v, p.downStart[v], p.downStart[v+1], p.down, out)
		spread(v, p.upStart[v], p.upStart[v+1], p.up, in)
	}
	return out, in
}

// dedupe drops repeated points.
func dedupe(pts []Point) []Point {
	out := pts[:1]
	for _, q := range pts[1:] {
		if q != out[len(out)-1] {
			out = append(out, q)
		}
	}
	return out
}
