package dag

import "slices"

// Build validates tasks and returns their graph. limits bounds the size of
// the graph; see Limits for the defaults. A validation failure is returned
// as an *Error describing the first problem in input order (see the package
// documentation).
func Build(tasks []Task, limits Limits) (*Graph, error) {
	edges, err := checkLimits(tasks, limits.withDefaults())
	if err != nil {
		return nil, err
	}
	g := &Graph{index: make(map[string]int, len(tasks))}
	firstBad := g.indexIDs(tasks)
	if err := g.linkParents(tasks, edges, firstBad); err != nil {
		return nil, err
	}
	g.linkChildren()
	if err := g.sort(); err != nil {
		return nil, err
	}
	g.scratch.New = func() any { return newScratch(len(g.ids)) }
	return g, nil
}

// checkLimits checks the size of the graph and returns its number of edges.
func checkLimits(tasks []Task, limits Limits) (int, error) {
	if len(tasks) > limits.MaxTasks {
		return 0, tooManyTasksError(len(tasks), limits.MaxTasks)
	}
	edges := 0
	for _, t := range tasks {
		edges += len(t.DependsOn)
	}
	if edges > limits.MaxEdges {
		return 0, tooManyEdgesError(edges, limits.MaxEdges)
	}
	return edges, nil
}

// indexIDs fills g.ids and g.index and returns the index of the first task
// whose id is invalid or a duplicate, or len(tasks) if there is none. An id
// that occurs more than once maps to one of its tasks; that is enough for
// the dependency checks of the tasks before the first bad one, which are
// all that run.
func (g *Graph) indexIDs(tasks []Task) int {
	g.ids = make([]string, len(tasks))
	firstBad := len(tasks)
	for i, t := range tasks {
		g.ids[i] = t.ID
		if !ValidID(t.ID) {
			firstBad = min(firstBad, i)
			continue
		}
		// One map operation per task: a duplicate leaves the size unchanged.
		size := len(g.index)
		if g.index[t.ID] = i; len(g.index) == size {
			firstBad = min(firstBad, i)
		}
	}
	return firstBad
}

// idError describes why the id of task i is rejected.
func (g *Graph) idError(i int) *Error {
	id := g.ids[i]
	if !ValidID(id) {
		return invalidIDError(i, id)
	}
	return duplicateIDError(i, slices.Index(g.ids, id), id)
}

// linkParents resolves the dependencies of every task in input order,
// stopping with an error at task firstBad, whose id is rejected.
func (g *Graph) linkParents(tasks []Task, edges, firstBad int) error {
	n := len(tasks)
	g.parentStart = make([]int, n+1)
	g.parents = make([]int, 0, edges)
	g.childStart = make([]int, n+1) // counts children of p in childStart[p+1]
	seen := make([]int32, n)        // seen[p] == i+1: task i already lists p
	for i, t := range tasks {
		if i == firstBad {
			return g.idError(i)
		}
		for _, dep := range t.DependsOn {
			p, ok := g.index[dep]
			switch {
			case dep == t.ID:
				return selfLoopError(i, t.ID)
			case !ok:
				return unknownDependencyError(i, t.ID, dep)
			case seen[p] == int32(i+1):
				return duplicateDependencyError(i, t.ID, dep)
			}
			seen[p] = int32(i + 1)
			g.parents = append(g.parents, p)
			g.childStart[p+1]++
		}
		g.parentStart[i+1] = len(g.parents)
	}
	return nil
}

// linkChildren fills g.children from g.parents; g.childStart holds the
// child counts on entry.
func (g *Graph) linkChildren() {
	n := len(g.ids)
	for p := range n {
		g.childStart[p+1] += g.childStart[p]
	}
	next := slices.Clone(g.childStart[:n])
	g.children = make([]int, len(g.parents))
	for i := range n {
		for _, p := range g.Parents(i) {
			g.children[next[p]] = i
			next[p]++
		}
	}
}

// sort computes the topological order, the roots and the levels with
// Kahn's algorithm, or reports a cycle.
func (g *Graph) sort() error {
	n := len(g.ids)
	waiting := make([]int32, n) // parents not yet in the order
	g.topo = make([]int, 0, n)
	for i := range n {
		waiting[i] = int32(g.parentStart[i+1] - g.parentStart[i])
		if waiting[i] == 0 {
			g.topo = append(g.topo, i)
		}
	}
	g.nroots = len(g.topo)
	g.levels = make([]int, n)
	for head := 0; head < len(g.topo); head++ {
		v := g.topo[head]
		for _, c := range g.Children(v) {
			g.levels[c] = max(g.levels[c], g.levels[v]+1)
			if waiting[c]--; waiting[c] == 0 {
				g.topo = append(g.topo, c)
			}
		}
	}
	if len(g.topo) < n {
		return g.cycleError(waiting)
	}
	return nil
}

// cycleError finds a cycle among the tasks that Kahn's algorithm could not
// order (waiting[i] > 0). Each of them has a parent that is also unordered,
// so walking up from one through its first unordered parent must come back
// to a task already visited: the walk from there on is a cycle.
func (g *Graph) cycleError(waiting []int32) *Error {
	step := make([]int32, len(g.ids)) // position in the walk + 1, 0 if not visited
	var walk []int
	v := slices.IndexFunc(waiting, func(w int32) bool { return w > 0 })
	for step[v] == 0 {
		walk = append(walk, v)
		step[v] = int32(len(walk))
		v = g.firstWaitingParent(v, waiting)
	}
	cycle := walk[step[v]-1:] // cycle[k] depends on cycle[k+1], the last on the first
	slices.Reverse(cycle)     // now each depends on the one before it
	first := slices.Index(cycle, slices.Min(cycle))
	ids := make([]string, 0, len(cycle)+1)
	for k := range cycle {
		ids = append(ids, g.ids[cycle[(first+k)%len(cycle)]])
	}
	return cycleError(cycle[first], append(ids, ids[0]))
}

func (g *Graph) firstWaitingParent(v int, waiting []int32) int {
	for _, p := range g.Parents(v) {
		if waiting[p] > 0 {
			return p
		}
	}
	panic("dag: unordered task without unordered parent")
}
