package layered

// placePasses is how many times the columns are placed after their
// neighbours, alternately from the left and from the right, before a last
// pass after both.
const placePasses = 8

// Weights of a segment when a vertex is placed after its neighbours
// (Gansner et al.'s Ω): long edges, through dummies, pull hardest, so that
// they run straight.
const (
	weightNodes  = 1 // node to node
	weightMixed  = 2 // node to dummy
	weightDummy  = 8 // dummy to dummy
	weightAlone  = 1e-3
	weightOfSelf = 0.5 // in the last pass: how much a vertex stays put
)

// place returns each vertex's vertical centre: within each column, in the
// order chosen, separated by their heights and gaps, and moved as near the
// (weighted) mean of their neighbours as that allows.
func place(p *proper, o *ordering, heights []float64, sp Spacing) []float64 {
	y := make([]float64, p.vertices())
	var (
		s              isotonic
		t, w, sep, col []float64
	)
	gap := func(a, b int32) float64 {
		if !p.dummy(a) && !p.dummy(b) {
			return sp.NodeGap
		}
		return sp.EdgeGap
	}
	weight := func(a, b int32) float64 {
		switch {
		case p.dummy(a) && p.dummy(b):
			return weightDummy
		case p.dummy(a) || p.dummy(b):
			return weightMixed
		}
		return weightNodes
	}
	// Packed from the top to start with.
	for _, lay := range o.layers {
		at := 0.0
		for i, v := range lay {
			if i > 0 {
				at += (heights[lay[i-1]]+heights[v])/2 + gap(lay[i-1], v)
			}
			y[v] = at
		}
	}
	layerPass := func(l int, fromUp, fromDown bool) {
		lay := o.layers[l]
		t, w, sep, col = t[:0], w[:0], sep[:0], col[:0]
		for i, v := range lay {
			if i > 0 {
				sep = append(sep, (heights[lay[i-1]]+heights[v])/2+gap(lay[i-1], v))
			}
			sumW, sumWY := 0.0, 0.0
			if fromUp {
				for _, u := range p.ups(v) {
					k := weight(u, v)
					sumW += k
					sumWY += k * y[u]
				}
			}
			if fromDown {
				for _, u := range p.downs(v) {
					k := weight(v, u)
					sumW += k
					sumWY += k * y[u]
				}
			}
			self := weightAlone
			if fromUp && fromDown {
				self = weightOfSelf
			}
			sumW += self
			sumWY += self * y[v]
			t = append(t, sumWY/sumW)
			w = append(w, sumW)
			col = append(col, 0)
		}
		s.solve(t, w, sep, col)
		for i, v := range lay {
			y[v] = col[i]
		}
	}
	for i := range placePasses {
		if i%2 == 0 {
			for l := 1; l < p.layers; l++ {
				layerPass(l, true, false)
			}
		} else {
			for l := p.layers - 2; l >= 0; l-- {
				layerPass(l, false, true)
			}
		}
	}
	for l := range p.layers {
		layerPass(l, true, true)
	}
	// Shift to the top margin.
	top := 0.0
	for v, at := range y {
		if v == 0 || at-heights[v]/2 < top {
			top = at - heights[v]/2
		}
	}
	for v := range y {
		y[v] += sp.Margin - top
	}
	return y
}
