package layered

import (
	"math/rand/v2"
)

// Test and benchmark graphs; every node is 140 by 34.

func boxes(n int) []Size {
	s := make([]Size, n)
	for i := range s {
		s[i] = Size{W: 140, H: 34}
	}
	return s
}

// chain is 0 -> 1 -> ... -> n-1.
func chain(n int) []Edge {
	e := make([]Edge, 0, n)
	for i := 1; i < n; i++ {
		e = append(e, Edge{i - 1, i})
	}
	return e
}

// fan is a root, n-2 nodes after it, and a node after all of those.
func fan(n int) []Edge {
	e := make([]Edge, 0, 2*n)
	for i := 1; i < n-1; i++ {
		e = append(e, Edge{0, i}, Edge{i, n - 1})
	}
	return e
}

// random is a random DAG: each node depends on up to perNode distinct
// nodes before it, chosen uniformly (a fixed seed).
func random(n, perNode int) []Edge {
	r := rand.New(rand.NewPCG(uint64(n), uint64(perNode)))
	e := make([]Edge, 0, n*perNode)
	seen := map[int]bool{}
	for i := 1; i < n; i++ {
		clear(seen)
		for range min(i, perNode) {
			j := r.IntN(i)
			for seen[j] {
				j = r.IntN(i)
			}
			seen[j] = true
			e = append(e, Edge{j, i})
		}
	}
	return e
}
