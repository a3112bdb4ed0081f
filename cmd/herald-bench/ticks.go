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
}

// analyzeTicks checks the deliveries of jobs, each firing at every whole
// second, over the window of seconds whole seconds starting at from.
// Deliveries of other jobs or outside the window are ignored.
func analyzeTicks(ds []delivery, jobs []string, from time.Time, seconds int) tickReport {
	index := make(map[string]int, len(jobs))
	for i, id := range jobs {
		index[id] = i
	}
	counts := make([]int, len(jobs)*seconds)
	rep := tickReport{Expected: len(counts), Lateness: make(latencies, 0, len(counts))}
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
		counts[j*seconds+int(offset/time.Second)]++
		rep.Lateness = append(rep.Lateness, d.At.Sub(at))
	}
	for _, c := range counts {
		switch {
		case c == 0:
			rep.Missed++
		case c > 1:
			rep.Doubled++
		}
	}
	rep.Lateness.sorted()
	return rep
}
