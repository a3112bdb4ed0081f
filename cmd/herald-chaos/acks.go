package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// registrations: every acknowledged registration exists.
func (a *auditor) registrations() []row {
	var acked, found int
	failed := map[int]int{}
	why := map[int]string{}
	byKind := map[string]int{}
	keys := map[string]bool{}
	for _, j := range a.h.jobs {
		keys[j.Key] = true
	}
	storedAnyway := 0
	for _, r := range a.ledger.Registrations() {
		if !r.Acked {
			failed[r.Status]++
			why[r.Status] = r.Err
			if keys[r.Key] {
				storedAnyway++
			}
			continue
		}
		acked++
		byKind[r.Kind]++
		if _, ok := a.h.jobs[r.ID]; ok {
			found++
		} else {
			a.note("registrations missing", r.ID)
		}
	}
	var kinds []string
	for _, k := range []string{kindOneOff, kindCron, kindDAG, kindManual} {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, byKind[k]))
	}
	return []row{
		check("registrations acknowledged / found", fmt.Sprintf("%d / %d", acked, found), acked == found && acked > 0),
		info("registrations acknowledged by kind", strings.Join(kinds, ", ")),
		info("registrations not acknowledged (last answer)", fmt.Sprintf("%d: %s; stored anyway: %d%s", sum(failed), formatStatuses(failed), storedAnyway, formatReasons(why))),
	}
}

// triggers: every acknowledged trigger has its run.
func (a *auditor) triggers() []row {
	runs := map[string]runRow{}
	for _, r := range a.h.runs {
		runs[r.ID] = r
	}
	var acked, found int
	failed := map[int]int{}
	why := map[int]string{}
	for _, t := range a.ledger.Triggers() {
		if !t.Acked {
			failed[t.Status]++
			why[t.Status] = t.Err
			continue
		}
		acked++
		if r, ok := runs[t.ID]; ok && r.JobID == t.JobID && r.Trigger == "manual" {
			found++
		} else {
			a.note("triggers missing", t.ID)
		}
	}
	return []row{
		check("triggers acknowledged / found", fmt.Sprintf("%d / %d", acked, found), acked == found && acked > 0),
		info("triggers not acknowledged (last answer)", fmt.Sprintf("%d: %s%s", sum(failed), formatStatuses(failed), formatReasons(why))),
	}
}

// formatReasons renders one reason per status: "; 422: at is in the past".
func formatReasons(why map[int]string) string {
	var b strings.Builder
	for _, status := range slices.Sorted(maps.Keys(why)) {
		reason := why[status]
		if len(reason) > 120 {
			reason = reason[:120] + "..."
		}
		fmt.Fprintf(&b, "; %d: %s", status, reason)
	}
	return b.String()
}

// sum adds the counts of a status map.
func sum(counts map[int]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
