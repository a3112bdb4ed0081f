package layered

// proper is the graph made proper: an edge that skips layers runs through
// a dummy vertex in each layer it crosses, so that every segment joins two
// neighbouring layers. The long edges of a node share their dummies (its
// trunk: Graphviz's "concentrate", yEd's edge groups), each leaving the
// trunk in the layer before its target; a trunk belongs to one source, so
// a reader follows it back to that source without ambiguity, and a graph
// of 10,000 nodes with 100,000 long edges needs a tenth of the dummies.
//
// Vertices 0 to n-1 are the nodes; node u's trunk is n+trunkStart[u] to
// n+trunkStart[u+1]-1, one vertex a layer from layer(u)+1.
type proper struct {
	n          int
	layers     int
	layer      []int32 // of each vertex
	trunkStart []int32 // of each node, and the total at the end
	// The segments: vertex v's predecessors (in layer-1) are
	// up[upStart[v]:upStart[v+1]], its successors (in layer+1)
	// down[downStart[v]:downStart[v+1]].
	upStart, up     []int32
	downStart, down []int32
	// Each edge's first segment, as an index of down, and its last, as an
	// index of up.
	firstSegment, lastSegment []int32
}

func (p *proper) vertices() int { return len(p.layer) }

func (p *proper) dummy(v int32) bool { return int(v) >= p.n }

func (p *proper) ups(v int32) []int32 { return p.up[p.upStart[v]:p.upStart[v+1]] }

func (p *proper) downs(v int32) []int32 { return p.down[p.downStart[v]:p.downStart[v+1]] }

// trunk returns node u's dummy in layer l.
func (p *proper) trunk(u int, l int32) int32 {
	return int32(p.n) + p.trunkStart[u] + l - p.layer[u] - 1
}

func newProper(n int, edges []Edge, layer []int32, layers int) *proper {
	p := &proper{n: n, layers: layers, trunkStart: make([]int32, n+1)}
	reach := append([]int32(nil), layer...) // the last layer of each node's trunk
	for _, e := range edges {
		reach[e.From] = max(reach[e.From], layer[e.To]-1)
	}
	for u := range n {
		p.trunkStart[u+1] = p.trunkStart[u] + reach[u] - layer[u]
	}
	v := n + int(p.trunkStart[n])
	p.layer = make([]int32, v)
	copy(p.layer, layer)
	for u := range n {
		for l := layer[u] + 1; l <= reach[u]; l++ {
			p.layer[p.trunk(u, l)] = l
		}
	}
	// Segments: along each trunk, then each edge's last (its only one
	// when it joins neighbouring layers).
	segments := func(f func(a, b int32, e int)) {
		for u := range n {
			if reach[u] > layer[u] {
				f(int32(u), p.trunk(u, layer[u]+1), -1)
			}
			for l := layer[u] + 1; l < reach[u]; l++ {
				f(p.trunk(u, l), p.trunk(u, l+1), -1)
			}
		}
		for i, e := range edges {
			from := int32(e.From)
			if layer[e.To]-layer[e.From] > 1 {
				from = p.trunk(e.From, layer[e.To]-1)
			}
			f(from, int32(e.To), i)
		}
	}
	p.upStart = make([]int32, v+1)
	p.downStart = make([]int32, v+1)
	total := 0
	segments(func(a, b int32, _ int) {
		p.downStart[a+1]++
		p.upStart[b+1]++
		total++
	})
	for x := range v {
		p.upStart[x+1] += p.upStart[x]
		p.downStart[x+1] += p.downStart[x]
	}
	p.up = make([]int32, total)
	p.down = make([]int32, total)
	p.firstSegment = make([]int32, len(edges))
	p.lastSegment = make([]int32, len(edges))
	trunkSegment := make([]int32, n) // each node's segment to its trunk
	upFill := append([]int32(nil), p.upStart[:v]...)
	downFill := append([]int32(nil), p.downStart[:v]...)
	segments(func(a, b int32, e int) {
		if e >= 0 {
			p.lastSegment[e] = upFill[b]
			p.firstSegment[e] = downFill[a]
		} else if !p.dummy(a) {
			trunkSegment[a] = downFill[a]
		}
		p.down[downFill[a]] = b
		downFill[a]++
		p.up[upFill[b]] = a
		upFill[b]++
	})
	for i, e := range edges {
		if layer[e.To]-layer[e.From] > 1 {
			p.firstSegment[i] = trunkSegment[e.From]
		}
	}
	return p
}
