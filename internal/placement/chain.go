package placement

import (
	"cmp"
	"slices"
	"sync"
)

// Explained is how many of the best candidates a decision keeps, for its
// explanation and as the next-best devices.
const Explained = 5

// Chain is a placement strategy: filters, weighted scorers and a selector.
type Chain struct {
	// Filters run in order; the first that rejects a device gives the
	// reason it is counted under.
	Filters []Filter
	// Scorers rate the devices that pass; the combined score is their
	// weighted mean.
	Scorers []Weighted
	// Selector orders the candidates.
	Selector Selector
}

// Rejection counts the devices a filter dropped for one reason.
type Rejection struct {
	Reason string
	Count  int
}

// rejections counts reasons: a handful of distinct ones, so a slice
// searched linearly beats a map.
type rejections []Rejection

func (r *rejections) add(reason string, n int) {
	for i := range *r {
		if (*r)[i].Reason == reason {
			(*r)[i].Count += n
			return
		}
	}
	*r = append(*r, Rejection{Reason: reason, Count: n})
}

// candidates reuses the eligible lists of placements: a pool of 10,000
// devices would otherwise allocate half a megabyte per placement.
var candidates = sync.Pool{New: func() any { return new([]Candidate) }}

// Decision is a placement: the device chosen (nil when none is eligible),
// the next-best, and why.
type Decision struct {
	// Strategy is the selector's name.
	Strategy string
	// Ranked are the chosen device first, then the next-best, up to
	// Explained.
	Ranked []Candidate
	// Eligible counts the devices that passed every filter.
	Eligible int
	// Rejected counts the devices dropped, by reason, most first.
	Rejected []Rejection
	// Scorers names the scores of each candidate.
	Scorers []string
	// RetriedTried says every eligible device had been tried, so the task
	// goes again to one of them.
	RetriedTried bool
}

// Chosen is the device chosen, nil when none is eligible.
func (d Decision) Chosen() *Device {
	if len(d.Ranked) == 0 {
		return nil
	}
	return d.Ranked[0].Device
}

// Place decides where t goes in s.
func (c *Chain) Place(s *Snapshot, t *Task) Decision {
	d := Decision{Strategy: c.Selector.Name(), Scorers: make([]string, len(c.Scorers))}
	for i, w := range c.Scorers {
		d.Scorers[i] = w.Scorer.Name()
	}
	var rejected rejections
	buf := candidates.Get().(*[]Candidate)
	defer func() { *buf = (*buf)[:0]; candidates.Put(buf) }()
	eligible := (*buf)[:0]
	var tried []Candidate
	seed := taskSeed(t.TaskRunID)
	for i := range s.Devices {
		dev := &s.Devices[i]
		reason := ""
		for _, f := range c.Filters {
			if reason = f.Reject(t, dev); reason != "" {
				break
			}
		}
		switch reason {
		case "":
			eligible = append(eligible, c.score(t, dev, seed))
		case reasonTried:
			tried = append(tried, c.score(t, dev, seed))
		default:
			rejected.add(reason, 1)
		}
	}
	*buf = eligible // keep what grew
	if len(eligible) == 0 && len(tried) > 0 {
		// Every device that could take it was tried: try them again
		// rather than leave the task without a device.
		eligible, d.RetriedTried = tried, true
	} else if len(tried) > 0 {
		rejected.add(reasonTried, len(tried))
	}
	d.Eligible = len(eligible)
	d.Rejected = rejected
	slices.SortFunc(d.Rejected, func(a, b Rejection) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	d.Ranked = c.Selector.Select(t, eligible, Explained)
	if len(c.Scorers) > 0 {
		// Each scorer's score, for the few candidates explained.
		for i := range d.Ranked {
			r := &d.Ranked[i]
			r.Scores = make([]float64, len(c.Scorers))
			for k, w := range c.Scorers {
				r.Scores[k] = w.Scorer.Score(t, r.Device)
			}
		}
	}
	return d
}

// score rates dev for t: the weighted mean of every scorer's score.
func (c *Chain) score(t *Task, dev *Device, seed uint64) Candidate {
	cand := Candidate{Device: dev, rank: tieBreak(seed, dev.ID)}
	var sum, weights float64
	for _, w := range c.Scorers {
		sum += w.Weight * w.Scorer.Score(t, dev)
		weights += w.Weight
	}
	if weights > 0 {
		cand.Score = sum / weights
	}
	return cand
}
