package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// finalStates are the task run states nothing follows.
var finalStates = []string{"succeeded", "failed", "upstream_failed", "cancelled"}

// taskRuns: every task run is final, none failed (the receiver answers 200
// to everything, so a failed task run is a delivery herald gave up on), and
// every one that succeeded reached the receiver.
func (a *auditor) taskRuns() []row {
	byState := map[string]int{}
	final, notFinal, failed, undelivered := 0, 0, 0, 0
	for _, t := range a.h.taskRuns {
		byState[t.State]++
		switch {
		case !slices.Contains(finalStates, t.State):
			notFinal++
			a.note("task runs not final", t.ID+" ("+t.State+")")
			continue
		case t.State == "failed" || t.State == "upstream_failed":
			failed++
			a.note("task runs failed", t.ID)
		case t.State == "succeeded" && len(a.delivered[webhookID(t.ID)]) == 0:
			undelivered++
			a.note("succeeded task runs never delivered", t.ID)
		}
		final++
	}
	var states []string
	for _, s := range slices.Sorted(maps.Keys(byState)) {
		states = append(states, fmt.Sprintf("%s %d", s, byState[s]))
	}
	return []row{
		check("task runs final / not final", fmt.Sprintf("%d / %d", final, notFinal), notFinal == 0),
		info("task runs by state", strings.Join(states, ", ")),
		check("task runs failed (the receiver answers 200 to all)", fmt.Sprint(failed), failed == 0),
		check("succeeded task runs never delivered", fmt.Sprint(undelivered), undelivered == 0),
	}
}
