package main

import (
	"fmt"
	"sort"
	"time"
)

// cutWindow is how soon after a kill a request cut at the receiver counts as
// the killed replica's.
const cutWindow = 2 * time.Second

// kills: what each killed replica held reached the receiver after the kill,
// and how long after it the last of it did.
func (a *auditor) kills(kills []killRecord, loadStart time.Time) []row {
	var rows []row
	for _, k := range kills {
		name := fmt.Sprintf("SIGKILL of replica %d at %s: deliveries held / delivered since / longest kill → arrival",
			k.Replica, formatOffset(k.At.Sub(loadStart)))
		if k.HeldErr != "" {
			rows = append(rows, check(name, "unknown: "+k.HeldErr, false))
			continue
		}
		onWire := 0
		for _, ar := range a.arrivals {
			if ar.Cut && !ar.Done.Before(k.At) && ar.Done.Sub(k.At) < cutWindow {
				onWire++
			}
		}
		arrived := 0
		var longest time.Duration
		for _, hd := range k.Held {
			ts := a.delivered[webhookID(hd.TaskRunID.String())]
			i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(k.At) })
			if i == len(ts) {
				a.note("held deliveries never delivered", hd.TaskRunID.String())
				continue
			}
			arrived++
			longest = max(longest, ts[i].Sub(k.At))
		}
		longestText := "none held"
		switch {
		case arrived < len(k.Held):
			longestText = fmt.Sprintf("∞ (%d never arrived)", len(k.Held)-arrived)
		case arrived > 0:
			longestText = longest.Round(10 * time.Millisecond).String()
		}
		rows = append(rows, check(name,
			fmt.Sprintf("%d (%d on the wire) / %d / %s", len(k.Held), onWire, arrived, longestText),
			arrived == len(k.Held)))
	}
	return rows
}
