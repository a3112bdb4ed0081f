package dag

import (
	"fmt"
	"testing"
)

// fanShape returns n tasks: a root, a wide layer depending on it, a fan-in
// task depending on the whole layer, and a chain of 100 after the fan-in.
func fanShape(n int) []Task {
	const chainLen = 100
	width := n - 2 - chainLen
	in := make([]Task, 0, n)
	in = append(in, Task{ID: "root"})
	layer := make([]string, width)
	for i := range width {
		layer[i] = fmt.Sprintf("fan-%d", i)
		in = append(in, Task{ID: layer[i], DependsOn: []string{"root"}})
	}
	in = append(in, Task{ID: "fan-in", DependsOn: layer})
	prev := "fan-in"
	for i := range chainLen {
		id := fmt.Sprintf("chain-%d", i)
		in = append(in, Task{ID: id, DependsOn: []string{prev}})
		prev = id
	}
	return in
}

func benchmarkBuild(b *testing.B, in []Task) {
	limits := Limits{MaxTasks: len(in), MaxEdges: 2 * len(in)}
	if _, err := Build(in, limits); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(in, limits); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/task")
}

func BenchmarkBuild10k(b *testing.B)     { benchmarkBuild(b, fanShape(10_000)) }
func BenchmarkBuild1M(b *testing.B)      { benchmarkBuild(b, fanShape(1_000_000)) }
func BenchmarkBuildChain1M(b *testing.B) { benchmarkBuild(b, chain(1_000_000)) }

func BenchmarkIsAncestorChain10k(b *testing.B) {
	g, err := Build(chain(10_000), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !g.IsAncestor(0, 9_999) {
			b.Fatal("want ancestor")
		}
	}
}
