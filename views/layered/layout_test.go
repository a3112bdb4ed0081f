package layered

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// named is a small graph written as "a>b b>c": nodes in order of first
// appearance.
type named struct {
	ids   []string
	edges []Edge
}

func parse(s string) named {
	var g named
	index := map[string]int{}
	node := func(id string) int {
		if i, ok := index[id]; ok {
			return i
		}
		index[id] = len(g.ids)
		g.ids = append(g.ids, id)
		return len(g.ids) - 1
	}
	for _, f := range strings.Fields(s) {
		from, to, ok := strings.Cut(f, ">")
		if !ok {
			node(f)
			continue
		}
		g.edges = append(g.edges, Edge{node(from), node(to)})
	}
	return g
}

func (g named) layout(t *testing.T) Drawing {
	t.Helper()
	d, err := Layout(boxes(len(g.ids)), g.edges, DefaultSpacing)
	require.NoError(t, err)
	return d
}

// Small graphs whose least crossings are known.
var known = []struct {
	name      string
	graph     string
	crossings int
	layers    map[string]int
}{
	{"chain", "a>b b>c c>d", 0, map[string]int{"a": 0, "b": 1, "c": 2, "d": 3}},
	{"skip edge", "a>b b>c c>d a>d", 0, map[string]int{"a": 0, "b": 1, "c": 2, "d": 3}},
	{"the issue's job", "fetch>b b>c c>d fetch>d fetch>f d>publish f>publish", 0,
		map[string]int{"fetch": 0, "b": 1, "f": 1, "c": 2, "d": 3, "publish": 4}},
	{"fan-in", "a>z b>z c>z d>z e", 0, map[string]int{"a": 0, "e": 0, "z": 1}},
	{"diamond", "a>b a>c b>d c>d", 0, map[string]int{"a": 0, "b": 1, "c": 1, "d": 2}},
	{"twisted ladder", "a1>b2 a2>b1 b1>c2 b2>c1 c1>d2 c2>d1", 0, nil},
	{"crossed in the input", "a>y b>x x>z y>w", 0, nil},
	{"long edges crossed", "a>y b>x a>x2 x>x2 b>y2 y>y2", 1, nil},
	{"K2,2", "a>c a>d b>c b>d", 1, nil},
	{"K3,3", "a>x a>y a>z b>x b>y b>z c>x c>y c>z", 9, nil},
	{"skip edges around a fan-in", "r>a r>b r>c a>m b>m c>m m>z r>z a>z", 0, nil},
	{"long edges from both sides", "s>a a>b b>c c>t s>t u>a u>t", 0, nil},
	{"one crossing forced", "a>c a>d b>c b>d c>e d>e", 1, nil},
}

func TestLayers(t *testing.T) {
	t.Parallel()
	for _, tc := range known {
		if tc.layers == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := parse(tc.graph)
			d := g.layout(t)
			got := map[string]int{}
			for i, id := range g.ids {
				got[id] = d.Boxes[i].Layer
			}
			for id, want := range tc.layers {
				require.Equal(t, want, got[id], "layer of %s: got %v, want %v", id, got[id], want)
			}
		})
	}
}

// The crossings left are the fewest possible, checked against every order
// of every layer (dummies included).
func TestCrossingsMinimal(t *testing.T) {
	t.Parallel()
	for _, tc := range known {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := parse(tc.graph)
			d := g.layout(t)
			least := bruteForceCrossings(t, g)
			require.Equal(t, tc.crossings, least, "the case's least crossings: got %v, want %v", least, tc.crossings)
			require.Equal(t, least, d.Crossings, "got %v, want %v", d.Crossings, least)
			drawn := drawnCrossings(d)
			require.Equal(t, d.Crossings, drawn, "crossings drawn: got %v, want %v", drawn, d.Crossings)
		})
	}
}

// bruteForceCrossings tries every order of every layer.
func bruteForceCrossings(t *testing.T, g named) int {
	t.Helper()
	layer, layers, err := longestPath(len(g.ids), g.edges)
	require.NoError(t, err)
	p := newProper(len(g.ids), g.edges, layer, layers)
	o := newOrdering(p)
	orders := 1
	for _, lay := range o.layers {
		for k := 2; k <= len(lay); k++ {
			orders *= k
		}
	}
	require.LessOrEqual(t, orders, 1_000_000, "too many orders to try")
	least := math.MaxInt
	var try func(l int)
	try = func(l int) {
		if l == len(o.layers) {
			least = min(least, o.crossings(p))
			return
		}
		permute(o.layers[l], 0, func() {
			for i, v := range o.layers[l] {
				o.pos[v] = int32(i)
			}
			try(l + 1)
		})
	}
	try(0)
	return least
}

// permute calls f with every order of s[k:] in place.
func permute(s []int32, k int, f func()) {
	if k >= len(s)-1 {
		f()
		return
	}
	for i := k; i < len(s); i++ {
		s[k], s[i] = s[i], s[k]
		permute(s, k+1, f)
		s[k], s[i] = s[i], s[k]
	}
}

// drawnCrossings counts the crossings of the routes as drawn: the pairs of
// distinct segments that cross (a segment several edges share counts once).
func drawnCrossings(d Drawing) int {
	type segment struct{ p, q Point }
	seen := map[segment]bool{}
	var segs []segment
	for _, r := range d.Routes {
		for i := 1; i < len(r.Points); i++ {
			s := segment{r.Points[i-1], r.Points[i]}
			if !seen[s] {
				seen[s] = true
				segs = append(segs, s)
			}
		}
	}
	orient := func(a, b, c Point) float64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }
	n := 0
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			a, b := segs[i], segs[j]
			d1, d2 := orient(a.p, a.q, b.p), orient(a.p, a.q, b.q)
			d3, d4 := orient(b.p, b.q, a.p), orient(b.p, b.q, a.q)
			if d1*d2 < 0 && d3*d4 < 0 {
				n++
			}
		}
	}
	return n
}

// Every drawing: boxes apart, routes from the source's right side to the
// target's left side, through no other box, crossing columns horizontally.
func TestDrawingsAreCorrect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		sizes []Size
		edges []Edge
	}{
		{"chain of 50", boxes(50), chain(50)},
		{"fan of 40", boxes(40), fan(40)},
		{"random of 60, 3 a node", boxes(60), random(60, 3)},
		{"random of 120, 10 a node", boxes(120), random(120, 10)},
		{"mixed sizes", mixedSizes(80), random(80, 4)},
	}
	for _, tc := range known {
		g := parse(tc.graph)
		cases = append(cases, struct {
			name  string
			sizes []Size
			edges []Edge
		}{tc.name, boxes(len(g.ids)), g.edges})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Layout(tc.sizes, tc.edges, DefaultSpacing)
			require.NoError(t, err)
			checkDrawing(t, tc.sizes, tc.edges, d)
		})
	}
}

func mixedSizes(n int) []Size {
	s := make([]Size, n)
	for i := range s {
		s[i] = Size{W: float64(90 + 37*(i%5)), H: float64(30 + 16*(i%2))}
	}
	return s
}

func checkDrawing(t *testing.T, sizes []Size, edges []Edge, d Drawing) {
	t.Helper()
	require.Len(t, d.Boxes, len(sizes))
	require.Len(t, d.Routes, len(edges))
	// Boxes: their size, inside the drawing, apart from each other.
	for i, b := range d.Boxes {
		require.Equal(t, sizes[i], Size{b.W, b.H}, "box %d: got %v, want %v", i, Size{b.W, b.H}, sizes[i])
		require.True(t, b.X >= 0 && b.Y >= 0 && b.X+b.W <= d.Width && b.Y+b.H <= d.Height, "box %d outside the drawing", i)
		for j := range i {
			c := d.Boxes[j]
			apart := b.X+b.W < c.X || c.X+c.W < b.X || b.Y+b.H+DefaultSpacing.NodeGap <= c.Y+1e-9 || c.Y+c.H+DefaultSpacing.NodeGap <= b.Y+1e-9
			require.True(t, apart, "boxes %d %v and %d %v overlap", i, b, j, c)
		}
	}
	// Order: by layer, then by position, top to bottom.
	require.Len(t, d.Order, len(sizes))
	for k := 1; k < len(d.Order); k++ {
		a, b := d.Boxes[d.Order[k-1]], d.Boxes[d.Order[k]]
		require.True(t, a.Layer < b.Layer || a.Layer == b.Layer && a.Pos < b.Pos && a.Y < b.Y, "order %d: %v then %v", k, a, b)
	}
	for i, e := range edges {
		from, to := d.Boxes[e.From], d.Boxes[e.To]
		require.Greater(t, to.Layer, from.Layer, "edge %d goes left", i)
		pts := d.Routes[i].Points
		first, last := pts[0], pts[len(pts)-1]
		require.InDelta(t, from.X+from.W, first.X, 1e-9, "edge %d starts off its source's right side", i)
		require.True(t, first.Y > from.Y && first.Y < from.Y+from.H, "edge %d starts above or below its source", i)
		require.InDelta(t, to.X, last.X, 1e-9, "edge %d ends off its target's left side", i)
		require.True(t, last.Y > to.Y && last.Y < to.Y+to.H, "edge %d ends above or below its target", i)
		for k := 1; k < len(pts); k++ {
			p, q := pts[k-1], pts[k]
			require.Greater(t, q.X, p.X, "edge %d goes back at point %d", i, k)
			for j, b := range d.Boxes {
				if j == e.From || j == e.To {
					continue
				}
				require.False(t, b.Hits(p, q), "edge %d (%d -> %d) passes through box %d %v between %v and %v", i, e.From, e.To, j, b, p, q)
				if p.Y != q.Y { // a gap crossing, which a renderer may bend: no box in its x range
					require.True(t, b.X+b.W <= p.X || q.X <= b.X, "edge %d crosses the column of box %d obliquely", i, j)
				}
			}
		}
	}
}

// The same graph given in another order gets the same drawing once the
// caller puts it in a canonical order; here: the same input, twice.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	edges := random(200, 5)
	a, err := Layout(boxes(200), edges, DefaultSpacing)
	require.NoError(t, err)
	b, err := Layout(boxes(200), edges, DefaultSpacing)
	require.NoError(t, err)
	require.Equal(t, a, b)
}

func TestRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		n     int
		edges []Edge
		want  string
	}{
		{"cycle", 3, []Edge{{0, 1}, {1, 2}, {2, 0}}, ErrCycle.Error()},
		{"self-loop", 2, []Edge{{1, 1}}, "self-loop"},
		{"no such node", 2, []Edge{{0, 2}}, "refers to no node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Layout(boxes(tc.n), tc.edges, DefaultSpacing)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	d, err := Layout(nil, nil, DefaultSpacing)
	require.NoError(t, err)
	require.Empty(t, d.Boxes)
	require.Positive(t, d.Width)
}

// A long edge leaves its trunk in the column before its target, and the
// node between is drawn apart from it: the fetch -> d across b, c.
func TestSkipEdgeRunsBesideTheNodesBetween(t *testing.T) {
	t.Parallel()
	g := parse("fetch>b b>c c>d fetch>d")
	d := g.layout(t)
	route := d.Routes[3].Points // fetch -> d
	require.Len(t, route, 6, "fetch, two columns crossed, d (the first and last runs have no length): %v", route)
	for _, box := range []int{1, 2} { // b and c
		b := d.Boxes[box]
		for _, p := range route {
			if p.X >= b.X && p.X <= b.X+b.W {
				require.True(t, p.Y < b.Y || p.Y > b.Y+b.H, "at %v, inside %s", p, g.ids[box])
			}
		}
	}
	require.Equal(t, 2, d.Dummies)
	require.True(t, slices.Equal([]int{0, 1, 2, 3}, d.Order), "order: got %v", d.Order)
}
