package layered

import (
	"cmp"
	"slices"
)

const (
	// maxSweeps bounds the crossing reduction's sweeps (Gansner et al.
	// use 24); sweepsWithoutGain stops it sooner once it stops paying.
	maxSweeps         = 24
	sweepsWithoutGain = 4
	// sweepBudget bounds the work of the crossing reduction on big graphs:
	// sweeps times (vertices + segments).
	sweepBudget = 2_000_000
	// transposePasses bounds the passes of adjacent swaps over a layer.
	transposePasses = 8
)

// ordering is the order of the vertices in each layer.
type ordering struct {
	layers [][]int32 // the vertices of each layer, in order
	pos    []int32   // each vertex's position in its layer
	local  []int32   // each vertex's index in its layer when transpose began
	// Scratch space.
	keyed                []keyedVertex
	upSorted, downSorted sortedAdjacency
	scratch              []int32
	fenwick              []int32
}

// newOrdering orders each layer by vertex number, then sweeps down once:
// a start that follows the input's order.
func newOrdering(p *proper) *ordering {
	o := &ordering{
		layers: make([][]int32, p.layers),
		pos:    make([]int32, p.vertices()),
		local:  make([]int32, p.vertices()),
	}
	count := make([]int, p.layers)
	for _, l := range p.layer {
		count[l]++
	}
	all := make([]int32, p.vertices())
	start := 0
	for l, c := range count {
		o.layers[l] = all[start : start : start+c]
		start += c
	}
	for v, l := range p.layer {
		o.pos[v] = int32(len(o.layers[l]))
		o.layers[l] = append(o.layers[l], int32(v))
	}
	for l := 1; l < p.layers; l++ {
		o.sortLayer(p, l, true)
	}
	return o
}

// minimize reduces the crossings: sweeps down and up, each sorting a layer
// by the barycentres of its neighbours in the layer swept before, then
// swapping neighbours in it while that removes crossings. It keeps the best
// order seen and returns its crossings.
func (o *ordering) minimize(p *proper) int {
	best := o.crossings(p)
	if best == 0 {
		return 0
	}
	saved := o.save(nil)
	sweeps := min(maxSweeps, max(2, sweepBudget/(p.vertices()+len(p.up))))
	for i, idle := 0, 0; i < sweeps && idle < sweepsWithoutGain; i++ {
		down := i%2 == 0
		if down {
			for l := 1; l < p.layers; l++ {
				o.sortLayer(p, l, true)
				o.transpose(p, l)
			}
		} else {
			for l := p.layers - 2; l >= 0; l-- {
				o.sortLayer(p, l, false)
				o.transpose(p, l)
			}
		}
		c := o.crossings(p)
		if c < best {
			best, idle = c, 0
			saved = o.save(saved)
			if c == 0 {
				break
			}
		} else {
			idle++
		}
	}
	o.restore(saved)
	return best
}

// sortLayer sorts layer l by the barycentres of each vertex's neighbours in
// the layer above (up) or below; a vertex without any keeps its relative
// place. Ties keep their order.
func (o *ordering) sortLayer(p *proper, l int, up bool) {
	lay := o.layers[l]
	other := l + 1
	if up {
		other = l - 1
	}
	scale := float64(len(o.layers[other])) / float64(len(lay))
	keyed := o.keyed[:0]
	for i, v := range lay {
		adj := p.downs(v)
		if up {
			adj = p.ups(v)
		}
		k := (float64(o.pos[v])+0.5)*scale - 0.5
		if len(adj) > 0 {
			sum := 0
			for _, u := range adj {
				sum += int(o.pos[u])
			}
			k = float64(sum) / float64(len(adj))
		}
		keyed = append(keyed, keyedVertex{key: k, at: int32(i), v: v})
	}
	slices.SortFunc(keyed, func(a, b keyedVertex) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.at, b.at)
	})
	for i, kv := range keyed {
		lay[i] = kv.v
		o.pos[kv.v] = int32(i)
	}
	o.keyed = keyed
}

// keyedVertex is a vertex with its sort key and its place before the sort.
type keyedVertex struct {
	key float64
	at  int32
	v   int32
}

// transpose swaps neighbours of layer l while that lowers the crossings
// with both neighbouring layers.
func (o *ordering) transpose(p *proper, l int) {
	lay := o.layers[l]
	if len(lay) < 2 {
		return
	}
	// The neighbours' positions, sorted, for each vertex: they do not
	// change while this layer's vertices swap.
	o.upSorted.build(o, lay, p.ups)
	o.downSorted.build(o, lay, p.downs)
	for i, v := range lay {
		o.local[v] = int32(i)
	}
	for range transposePasses {
		improved := false
		for i := 0; i+1 < len(lay); i++ {
			v, w := lay[i], lay[i+1]
			upVW, upWV := pairCrossings(o.upSorted.of(o.local[v]), o.upSorted.of(o.local[w]))
			downVW, downWV := pairCrossings(o.downSorted.of(o.local[v]), o.downSorted.of(o.local[w]))
			if upWV+downWV < upVW+downVW {
				lay[i], lay[i+1] = w, v
				o.pos[v], o.pos[w] = int32(i+1), int32(i)
				improved = true
			}
		}
		if !improved {
			return
		}
	}
}

// sortedAdjacency holds, for each vertex of a layer (by its index when
// built), the positions of its neighbours on one side, sorted.
type sortedAdjacency struct {
	start []int32
	pos   []int32
}

func (a *sortedAdjacency) build(o *ordering, lay []int32, adj func(int32) []int32) {
	a.start = append(a.start[:0], 0)
	a.pos = a.pos[:0]
	for _, v := range lay {
		from := len(a.pos)
		for _, u := range adj(v) {
			a.pos = append(a.pos, o.pos[u])
		}
		if len(a.pos)-from > 1 {
			slices.Sort(a.pos[from:])
		}
		a.start = append(a.start, int32(len(a.pos)))
	}
}

func (a *sortedAdjacency) of(i int32) []int32 { return a.pos[a.start[i]:a.start[i+1]] }

// save copies the order into buf (reallocated when nil).
func (o *ordering) save(buf []int32) []int32 {
	buf = buf[:0]
	for _, lay := range o.layers {
		buf = append(buf, lay...)
	}
	return buf
}

// restore sets the order saved.
func (o *ordering) restore(buf []int32) {
	for _, lay := range o.layers {
		copy(lay, buf[:len(lay)])
		buf = buf[len(lay):]
		for i, v := range lay {
			o.pos[v] = int32(i)
		}
	}
}
