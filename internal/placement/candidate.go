package placement

// Candidate is an eligible device with its scores.
type Candidate struct {
	// Device is the device, in the snapshot.
	Device *Device
	// Score is the chain's combined score, in [0, 1].
	Score float64
	// Scores are each scorer's score, in the chain's order.
	Scores []float64
	// rank is the device's stable tie-break for the task run.
	rank uint64
}

// better reports whether a ranks before b by score, then by the task run's
// stable tie-break, then by id: a total order, whatever the input order.
func better(a, b *Candidate) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	return idOrder(a.Device.ID, b.Device.ID) < 0
}

// bestK returns the k best of cs by before, best first, without sorting all
// of them: O(len(cs)·k), for the small k of a decision.
func bestK(cs []Candidate, k int, before func(a, b *Candidate) bool) []Candidate {
	k = min(k, len(cs))
	top := make([]Candidate, 0, k+1)
	for i := range cs {
		c := &cs[i]
		if len(top) == k && !before(c, &top[k-1]) {
			continue
		}
		j := len(top)
		if j == k {
			j--
		} else {
			top = append(top, Candidate{})
		}
		for j > 0 && before(c, &top[j-1]) {
			top[j] = top[j-1]
			j--
		}
		top[j] = *c
	}
	return top
}
