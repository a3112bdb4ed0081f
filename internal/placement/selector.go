package placement

// Selector orders the eligible candidates of a task, best first.
type Selector interface {
	// Name names the selector (the pool's strategy).
	Name() string
	// Select returns up to k of cs in the order they are to be tried: the
	// first is chosen, the next ones are the next-best (explanations, and
	// where a retry goes). It must depend only on cs's contents, not their
	// order.
	Select(t *Task, cs []Candidate, k int) []Candidate
}

// TopN ranks by score and spreads tasks over the best N: among them, the
// task run's stable tie-break picks the one chosen, so concurrent tasks do
// not all go to the single best device, and each task run always gets the
// same one from the same snapshot.
type TopN struct{}

// Name implements Selector.
func (TopN) Name() string { return StrategyLoadAware }

// Select implements Selector.
func (TopN) Select(t *Task, cs []Candidate, k int) []Candidate {
	n := max(1, t.TopN)
	top := bestK(cs, max(k, n), better)
	n = min(n, len(top))
	pick := 0
	for i := 1; i < n; i++ {
		if top[i].rank > top[pick].rank {
			pick = i
		}
	}
	if pick > 0 {
		chosen := top[pick]
		copy(top[1:pick+1], top[:pick])
		top[0] = chosen
	}
	return top[:min(k, len(top))]
}

// RoundRobin takes the eligible devices in id order, the task's Sequence
// (the pool's placement counter) choosing where to start.
type RoundRobin struct{}

// Name implements Selector.
func (RoundRobin) Name() string { return StrategyRoundRobin }

// Select implements Selector.
func (RoundRobin) Select(t *Task, cs []Candidate, k int) []Candidate {
	if len(cs) == 0 {
		return nil
	}
	start := int(t.Sequence % uint64(len(cs)))
	// The device at position start in id order and the ones after it,
	// wrapping: rank each by its distance from start.
	pivot := nthByID(cs, start)
	out := bestK(cs, k, func(a, b *Candidate) bool {
		da, db := idOrder(a.Device.ID, pivot) < 0, idOrder(b.Device.ID, pivot) < 0
		if da != db {
			return !da // at or after the pivot first, then the wrapped ones
		}
		return idOrder(a.Device.ID, b.Device.ID) < 0
	})
	return out
}

// Rendezvous orders devices by the task run's stable hash of each (highest
// random weight): a task run keeps its device while the pool changes, and
// only the tasks of a device that leaves move.
type Rendezvous struct{}

// Name implements Selector.
func (Rendezvous) Name() string { return StrategyHash }

// Select implements Selector.
func (Rendezvous) Select(_ *Task, cs []Candidate, k int) []Candidate {
	return bestK(cs, k, func(a, b *Candidate) bool {
		if a.rank != b.rank {
			return a.rank > b.rank
		}
		return idOrder(a.Device.ID, b.Device.ID) < 0
	})
}
