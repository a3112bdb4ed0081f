package views

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// randomTopology is n tasks, each after up to perNode distinct tasks
// before it, chosen uniformly (a fixed seed).
func randomTopology(n, perNode int) ([]GraphNode, []GraphEdge) {
	r := rand.New(rand.NewPCG(uint64(n), uint64(perNode)))
	nodes := make([]GraphNode, n)
	var edges []GraphEdge
	for i := range nodes {
		nodes[i] = GraphNode{ID: fmt.Sprintf("device-%05d", i), State: "succeeded"}
		seen := map[int]bool{}
		for range min(i, perNode) {
			j := r.IntN(i)
			for seen[j] {
				j = r.IntN(i)
			}
			seen[j] = true
			edges = append(edges, GraphEdge{From: nodes[j].ID, To: nodes[i].ID})
		}
	}
	return nodes, edges
}

// BenchmarkGraphExport is the SVG export of a random topology: layout and
// document (views/layered's benchmarks time the layout alone).
func BenchmarkGraphExport(b *testing.B) {
	for _, n := range []int{300, 10_000} {
		b.Run(fmt.Sprintf("random10/%d", n), func(b *testing.B) {
			nodes, edges := randomTopology(n, 10)
			b.ReportAllocs()
			for b.Loop() {
				g, err := LayoutAll(nodes, edges)
				if err != nil {
					b.Fatal(err)
				}
				if err := GraphDocument(g).Render(context.Background(), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
