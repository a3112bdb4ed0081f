package dag

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func mustBuild(t testing.TB, in []Task) *Graph {
	t.Helper()
	g, err := Build(in, Limits{MaxTasks: 2_000_000, MaxEdges: 4_000_000})
	require.NoError(t, err)
	return g
}

// ids maps task numbers to ids.
func ids(g *Graph, is []int) []string {
	out := make([]string, len(is))
	for k, i := range is {
		out[k] = g.ID(i)
	}
	return out
}

// checkTopo asserts that order holds every task once, parents first.
func checkTopo(t *testing.T, g *Graph, order []int) {
	t.Helper()
	require.Len(t, order, g.Len())
	pos := make([]int, g.Len())
	for k := range pos {
		pos[k] = -1
	}
	for k, i := range order {
		require.Equal(t, -1, pos[i], "task %d appears twice", i)
		pos[i] = k
	}
	for i := range g.Len() {
		for _, p := range g.Parents(i) {
			require.Less(t, pos[p], pos[i], "parent %s after child %s", g.ID(p), g.ID(i))
		}
	}
}

func TestGraphStructure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		tasks        []Task
		wantRoots    []string
		wantTopo     []string
		wantLevels   []int
		wantParents  map[string][]string
		wantChildren map[string][]string
	}{
		{
			name:         "diamond",
			tasks:        tasks("a", "b:a", "c:a", "d:b,c"),
			wantRoots:    []string{"a"},
			wantTopo:     []string{"a", "b", "c", "d"},
			wantLevels:   []int{0, 1, 1, 2},
			wantParents:  map[string][]string{"a": {}, "b": {"a"}, "c": {"a"}, "d": {"b", "c"}},
			wantChildren: map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": {}},
		},
		{
			name:         "listed in reverse",
			tasks:        tasks("d:c,b", "c:a", "b:a", "a"),
			wantRoots:    []string{"a"},
			wantTopo:     []string{"a", "c", "b", "d"},
			wantLevels:   []int{2, 1, 1, 0},
			wantParents:  map[string][]string{"d": {"c", "b"}},
			wantChildren: map[string][]string{"a": {"c", "b"}},
		},
		{
			name:       "fan-out and fan-in",
			tasks:      tasks("src", "w1:src", "w2:src", "w3:src", "sink:w1,w2,w3", "report:sink"),
			wantRoots:  []string{"src"},
			wantTopo:   []string{"src", "w1", "w2", "w3", "sink", "report"},
			wantLevels: []int{0, 1, 1, 1, 2, 3},
			wantChildren: map[string][]string{
				"src": {"w1", "w2", "w3"}, "w2": {"sink"}, "sink": {"report"}, "report": {},
			},
		},
		{
			name:        "uneven paths take the longest for levels",
			tasks:       tasks("a", "b:a", "c:b", "d:a,c", "e"),
			wantRoots:   []string{"a", "e"},
			wantTopo:    []string{"a", "e", "b", "c", "d"},
			wantLevels:  []int{0, 1, 2, 3, 0},
			wantParents: map[string][]string{"d": {"a", "c"}, "e": {}},
		},
		{
			name:  "empty",
			tasks: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := mustBuild(t, tt.tasks)
			require.Equal(t, len(tt.tasks), g.Len())
			for i, task := range tt.tasks {
				require.Equal(t, task.ID, g.ID(i))
				got, ok := g.Index(task.ID)
				require.True(t, ok)
				require.Equal(t, i, got, "Index(%q): got %v, want %v", task.ID, got, i)
			}
			_, ok := g.Index("nope")
			require.False(t, ok)
			got := ids(g, g.Roots())
			require.Equal(t, len(tt.wantRoots), len(got), "roots: got %v, want %v", got, tt.wantRoots)
			if len(tt.wantRoots) > 0 {
				require.Equal(t, tt.wantRoots, got, "roots: got %v, want %v", got, tt.wantRoots)
			}
			checkTopo(t, g, g.TopoOrder())
			if tt.wantTopo != nil {
				got = ids(g, g.TopoOrder())
				require.Equal(t, tt.wantTopo, got, "topo: got %v, want %v", got, tt.wantTopo)
			}
			if tt.wantLevels != nil {
				require.Equal(t, tt.wantLevels, g.Levels(), "levels: got %v, want %v", g.Levels(), tt.wantLevels)
			}
			for id, want := range tt.wantParents {
				i, _ := g.Index(id)
				got := ids(g, g.Parents(i))
				require.Equal(t, want, got, "parents of %s: got %v, want %v", id, got, want)
			}
			for id, want := range tt.wantChildren {
				i, _ := g.Index(id)
				got := ids(g, g.Children(i))
				require.Equal(t, want, got, "children of %s: got %v, want %v", id, got, want)
			}
		})
	}
}

func TestReturnedSlicesDoNotShareCapacity(t *testing.T) {
	t.Parallel()
	g := mustBuild(t, tasks("a", "b:a", "c:a", "d:b,c"))
	p := g.Parents(1)
	_ = append(p, 99)
	require.Equal(t, []int{1, 2}, g.Parents(3))
	r := g.Roots()
	_ = append(r, 99)
	require.Equal(t, []int{0, 1, 2, 3}, g.TopoOrder())
}

func TestIsAncestor(t *testing.T) {
	t.Parallel()
	// a -> b -> c -> d, a -> x, e alone; d also depends on x.
	g := mustBuild(t, tasks("a", "b:a", "c:b", "x:a", "d:c,x", "e"))
	tests := []struct {
		anc, of string
		want    bool
	}{
		{"a", "b", true},
		{"a", "d", true},
		{"b", "d", true},
		{"x", "d", true},
		{"c", "d", true},
		{"d", "a", false},
		{"b", "x", false},
		{"x", "c", false},
		{"e", "d", false},
		{"d", "e", false},
		{"a", "a", false},
		{"d", "d", false},
	}
	for _, tt := range tests {
		anc, _ := g.Index(tt.anc)
		i, _ := g.Index(tt.of)
		got := g.IsAncestor(anc, i)
		require.Equal(t, tt.want, got, "IsAncestor(%s, %s): got %v, want %v", tt.anc, tt.of, got, tt.want)
	}
}

func TestIsAncestorMatchesDescendants(t *testing.T) {
	t.Parallel()
	// A layered graph where task i depends on a few earlier tasks.
	const n = 300
	in := make([]Task, n)
	for i := range n {
		in[i].ID = fmt.Sprintf("t%d", i)
		for _, d := range []int{i / 2, i - 7, i/3 + 5} {
			if d >= 0 && d < i && !slices.Contains(in[i].DependsOn, in[d].ID) {
				in[i].DependsOn = append(in[i].DependsOn, in[d].ID)
			}
		}
	}
	g := mustBuild(t, in)
	for anc := range n {
		desc := g.Descendants(anc)
		for i := range n {
			want := slices.Contains(desc, i)
			got := g.IsAncestor(anc, i)
			require.Equal(t, want, got, "IsAncestor(%d, %d): got %v, want %v", anc, i, got, want)
		}
	}
}

func TestDescendants(t *testing.T) {
	t.Parallel()
	g := mustBuild(t, tasks("a", "b:a", "c:a", "d:b,c", "e:c", "f"))
	tests := []struct {
		of   string
		want []string
	}{
		{"a", []string{"b", "c", "d", "e"}},
		{"b", []string{"d"}},
		{"c", []string{"d", "e"}},
		{"d", []string{}},
		{"f", []string{}},
	}
	for _, tt := range tests {
		i, _ := g.Index(tt.of)
		got := ids(g, g.Descendants(i))
		require.Equal(t, tt.want, got, "Descendants(%s): got %v, want %v", tt.of, got, tt.want)
	}
}

func TestSearchesAreSafeConcurrently(t *testing.T) {
	t.Parallel()
	g := mustBuild(t, chain(2000))
	done := make(chan struct{})
	for w := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for k := range 200 {
				i := (w*200 + k) % 2000
				if !g.IsAncestor(0, i) && i != 0 {
					t.Errorf("IsAncestor(0, %d): got false, want true", i)
				}
				if got := len(g.Descendants(i)); got != 1999-i {
					t.Errorf("len(Descendants(%d)): got %v, want %v", i, got, 1999-i)
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}

func TestDeepChainOfOneMillion(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a 1,000,000-task chain")
	}
	const n = 1_000_000
	g := mustBuild(t, chain(n))
	require.Equal(t, []int{0}, g.Roots())
	require.Equal(t, n-1, g.Levels()[n-1])
	require.Equal(t, n-1, g.TopoOrder()[n-1])
	require.True(t, g.IsAncestor(0, n-1))
	require.False(t, g.IsAncestor(n-1, 0))
	require.Len(t, g.Descendants(0), n-1)

	// Closing the chain into a cycle is found without recursion.
	in := chain(n)
	in[0].DependsOn = []string{in[n-1].ID}
	_, err := Build(in, Limits{MaxTasks: n, MaxEdges: n})
	var got *Error
	require.ErrorAs(t, err, &got)
	require.Equal(t, KindCycle, got.Kind)
	require.Len(t, got.IDs, n+1)
}

// chain returns n tasks, each depending on the one before.
func chain(n int) []Task {
	in := make([]Task, n)
	for i := range n {
		in[i].ID = fmt.Sprintf("t%d", i)
		if i > 0 {
			in[i].DependsOn = []string{in[i-1].ID}
		}
	}
	return in
}
