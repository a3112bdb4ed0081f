package dag

import "sync"

// MaxIDLength is the longest task id, in bytes.
const MaxIDLength = 64

// Default limits, used when a Limits field is zero or negative.
const (
	DefaultMaxTasks = 10_000
	DefaultMaxEdges = 100_000
)

// Task is one node of the input graph, as registered.
type Task struct {
	// ID names the task within its job.
	ID string
	// DependsOn lists the ids of the tasks this one waits for.
	DependsOn []string
}

// Limits bound the size of a graph. A zero or negative field selects its
// default.
type Limits struct {
	// MaxTasks is the largest number of tasks (default DefaultMaxTasks).
	MaxTasks int
	// MaxEdges is the largest total number of depends_on entries (default
	// DefaultMaxEdges).
	MaxEdges int
}

func (l Limits) withDefaults() Limits {
	if l.MaxTasks <= 0 {
		l.MaxTasks = DefaultMaxTasks
	}
	if l.MaxEdges <= 0 {
		l.MaxEdges = DefaultMaxEdges
	}
	return l
}

// ValidID reports whether id is a valid task id: 1 to MaxIDLength bytes,
// each an ASCII letter, a digit, '_' or '-'.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLength {
		return false
	}
	for i := range len(id) {
		if !IsIDByte(id[i]) {
			return false
		}
	}
	return true
}

// IsIDByte reports whether c may appear in a task id.
func IsIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// Graph is a validated task graph. Tasks are numbered 0 to Len()-1 in input
// order. A Graph is immutable and safe for concurrent use; slices returned
// by its methods share its storage and must not be modified.
type Graph struct {
	ids   []string
	index map[string]int
	// Parents of task i are parents[parentStart[i]:parentStart[i+1]], in
	// depends_on order; children of i likewise, in input order.
	parentStart []int
	parents     []int
	childStart  []int
	children    []int
	topo        []int // a topological order; its prefix of length nroots holds the roots
	nroots      int
	levels      []int
	scratch     sync.Pool // of *scratch, for the searches
}

// Len returns the number of tasks.
func (g *Graph) Len() int { return len(g.ids) }

// ID returns the id of task i.
func (g *Graph) ID(i int) string { return g.ids[i] }

// Index returns the number of the task with the given id.
func (g *Graph) Index(id string) (int, bool) {
	i, ok := g.index[id]
	return i, ok
}

// Parents returns the tasks that task i depends on, in depends_on order.
func (g *Graph) Parents(i int) []int {
	return g.parents[g.parentStart[i]:g.parentStart[i+1]:g.parentStart[i+1]]
}

// Children returns the tasks that depend on task i, in input order.
func (g *Graph) Children(i int) []int {
	return g.children[g.childStart[i]:g.childStart[i+1]:g.childStart[i+1]]
}

// Roots returns the tasks without dependencies, in input order.
func (g *Graph) Roots() []int { return g.topo[:g.nroots:g.nroots] }

// TopoOrder returns every task once, each after all of its parents. The
// order is breadth-first from the roots (Kahn's algorithm) and
// deterministic for a given input.
func (g *Graph) TopoOrder() []int { return g.topo[:len(g.topo):len(g.topo)] }

// Levels returns the level of each task, indexed by task: 0 for a root,
// otherwise one more than the highest level of its parents (the length of
// the longest path from a root). Every parent has a lower level than its
// children, which makes levels suitable as drawing layers.
func (g *Graph) Levels() []int { return g.levels[:len(g.levels):len(g.levels)] }
