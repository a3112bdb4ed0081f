package dag

// scratch is reusable working memory for a graph search.
type scratch struct {
	seen  []uint64 // a bit per task
	queue []int
}

func newScratch(n int) *scratch {
	return &scratch{seen: make([]uint64, (n+63)/64)}
}

func (s *scratch) visit(i int) bool {
	w, b := i/64, uint64(1)<<(i%64)
	if s.seen[w]&b != 0 {
		return false
	}
	s.seen[w] |= b
	s.queue = append(s.queue, i)
	return true
}

// reset clears the marks of the tasks in the queue, which are exactly the
// visited ones, so a search costs nothing proportional to the graph size.
func (s *scratch) reset() {
	for _, i := range s.queue {
		s.seen[i/64] = 0
	}
	s.queue = s.queue[:0]
}

func (g *Graph) getScratch() *scratch { return g.scratch.Get().(*scratch) }

func (g *Graph) putScratch(s *scratch) {
	s.reset()
	g.scratch.Put(s)
}

// IsAncestor reports whether task anc is a proper ancestor of task i: i
// depends on anc directly or transitively. A task is not its own ancestor.
//
// It searches breadth-first upward from i, stops as soon as it meets anc
// and skips tasks whose level is not above the level of anc, since those
// cannot lead to it. A call costs O(a + e), where a is the number of
// ancestors of i with a level above that of anc and e is the number of
// their dependencies; it does not allocate in the steady state. It is O(1)
// when anc's level is not below i's.
func (g *Graph) IsAncestor(anc, i int) bool {
	if g.levels[anc] >= g.levels[i] {
		return false
	}
	s := g.getScratch()
	defer g.putScratch(s)
	s.visit(i)
	for head := 0; head < len(s.queue); head++ {
		for _, p := range g.Parents(s.queue[head]) {
			if p == anc {
				return true
			}
			if g.levels[p] > g.levels[anc] {
				s.visit(p)
			}
		}
	}
	return false
}

// Descendants returns every task that depends on task i directly or
// transitively, i excluded, in breadth-first order from i, or nil if
// there is none. The slice is newly allocated. A call costs O(d + e) for d descendants and the e
// dependencies among them and i.
func (g *Graph) Descendants(i int) []int {
	s := g.getScratch()
	defer g.putScratch(s)
	s.visit(i)
	for head := 0; head < len(s.queue); head++ {
		for _, c := range g.Children(s.queue[head]) {
			s.visit(c)
		}
	}
	return append([]int(nil), s.queue[1:]...)
}
