package main

import (
	"time"
)

// tickReport is what per-second schedules delivered in a measured window.
type tickReport struct {
	// Lateness is, for every delivery of a tick in the window, its arrival
	// at the receiver minus its Herald-Scheduled-For.
	Lateness latencies
	// Expected is the number of (job, second) ticks in the window.
	Expected int
	// Missed counts ticks without a delivery, Doubled ticks with more than one.
	Missed, Doubled int
	// Unreadable counts deliveries whose Herald-Scheduled-For did not parse.
	Unreadable int
	// BurstStarts is, for each second of the window with a delivery, the
	// lateness of its earliest: when that second's burst began (sorted).
	BurstStarts latencies
}

// lateStart is how far after the median burst start a second's burst must
// begin to count as starting late (lateStarts).
const lateStart = 10 * time.Millisecond

// lateStarts counts the seconds whose burst began at least lateStart after
// the median second's: whole bursts held back, as opposed to a tail.
func (r *tickReport) lateStarts() int {
	if len(r.BurstStarts) == 0 {
		return 0
	}
	median := r.BurstStarts[(len(r.BurstStarts)-1)/2]
	n := 0
	for _, s := range r.BurstStarts {
		if s >= median+lateStart {
			n++
		}
	}
	return n
}

// analyzeTicks checks the deliveries of jobs over the window of seconds
// whole seconds starting at from. Job i fires every every seconds, at the
// whole seconds whose Unix time is i modulo every (every 1: each second).
// Deliveries of other jobs or outside the window are ignored; a delivery
// for a second its job does not fire at counts as doubled.
func analyzeTicks(ds []delivery, jobs []string, from time.Time, seconds, every int) tickReport {
	index := make(map[string]int, len(jobs))
	for i, id := range jobs {
		index[id] = i
	}
	fires := func(j, second int) bool {
		return (int(from.Unix())+second-j)%every == 0
	}
	counts := make([]int, len(jobs)*seconds)
	rep := tickReport{Lateness: make(latencies, 0, len(counts))}
	starts := make([]time.Duration, seconds)
	seen := make([]bool, seconds)
	for j := range jobs {
		for sec := range seconds {
			if fires(j, sec) {
				rep.Expected++
			}
		}
	}
	for i := range ds {
		d := &ds[i]
		j, ok := index[d.Job]
		if !ok {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, d.ScheduledFor)
		if err != nil {
			rep.Unreadable++
			continue
		}
		offset := at.Sub(from)
		if offset < 0 || offset >= time.Duration(seconds)*time.Second || offset%time.Second != 0 {
			continue
		}
		sec := int(offset / time.Second)
		counts[j*seconds+sec]++
		late := d.At.Sub(at)
		rep.Lateness = append(rep.Lateness, late)
		if !seen[sec] || late < starts[sec] {
			starts[sec], seen[sec] = late, true
		}
	}
	for sec := range seconds {
		if seen[sec] {
			rep.BurstStarts = append(rep.BurstStarts, starts[sec])
		}
	}
	rep.BurstStarts.sorted()
	for i, c := range counts {
		switch {
		case !fires(i/seconds, i%seconds):
			if c > 0 {
				rep.Doubled++
			}
		case c == 0:
			rep.Missed++
		case c > 1:
			rep.Doubled++
		}
	}
	rep.Lateness.sorted()
	return rep
}
