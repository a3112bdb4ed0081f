package layered

import (
	"fmt"
	"testing"
)

func benchmarkLayout(b *testing.B, n int, edges []Edge) {
	sizes := boxes(n)
	d, err := Layout(sizes, edges, DefaultSpacing)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Layout(sizes, edges, DefaultSpacing); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.Dummies), "dummies")
	b.ReportMetric(float64(d.Crossings), "crossings")
}

// BenchmarkLayout lays out a chain, a fan-out/fan-in and a random DAG of
// 10 edges a node (uniform parents) of 300 and 10,000 tasks.
func BenchmarkLayout(b *testing.B) {
	for _, n := range []int{300, 10_000} {
		b.Run(fmt.Sprintf("chain/%d", n), func(b *testing.B) { benchmarkLayout(b, n, chain(n)) })
		b.Run(fmt.Sprintf("fan/%d", n), func(b *testing.B) { benchmarkLayout(b, n, fan(n)) })
		b.Run(fmt.Sprintf("random10/%d", n), func(b *testing.B) { benchmarkLayout(b, n, random(n, 10)) })
	}
}
