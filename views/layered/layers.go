package layered

// longestPath returns each node's layer, the length of its longest path
// from a node without predecessors (0 for those), and the number of
// layers; ErrCycle if some nodes are on a cycle.
func longestPath(n int, edges []Edge) ([]int32, int, error) {
	indeg := make([]int32, n)
	outStart := make([]int32, n+1)
	for _, e := range edges {
		outStart[e.From+1]++
		indeg[e.To]++
	}
	for v := range n {
		outStart[v+1] += outStart[v]
	}
	out := make([]int32, len(edges))
	fill := append([]int32(nil), outStart[:n]...)
	for _, e := range edges {
		out[fill[e.From]] = int32(e.To)
		fill[e.From]++
	}
	layer := make([]int32, n)
	queue := fill[:0] // reused: fill is no longer needed
	for v := range n {
		if indeg[v] == 0 {
			queue = append(queue, int32(v))
		}
	}
	layers := 0
	for head := 0; head < len(queue); head++ {
		v := queue[head]
		layers = max(layers, int(layer[v])+1)
		for _, w := range out[outStart[v]:outStart[v+1]] {
			layer[w] = max(layer[w], layer[v]+1)
			if indeg[w]--; indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	if len(queue) < n {
		return nil, 0, ErrCycle
	}
	return layer, layers, nil
}
