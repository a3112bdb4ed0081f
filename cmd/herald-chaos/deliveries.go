package main

import (
	"fmt"
)

// deliveries: repeats of a webhook-id are allowed (at least once); a task
// of a run delivered under two webhook-ids is not.
func (a *auditor) deliveries() []row {
	ids := map[string]bool{}
	perTask := map[string]map[string]bool{}
	cut := 0
	for _, ar := range a.arrivals {
		ids[ar.WebhookID] = true
		if ar.Cut {
			cut++
		}
		key := ar.Run + "|" + ar.Task
		if perTask[key] == nil {
			perTask[key] = map[string]bool{}
		}
		perTask[key][ar.WebhookID] = true
	}
	two := 0
	for key, set := range perTask {
		if len(set) > 1 {
			two++
			a.note("tasks delivered under two webhook-ids", key)
		}
	}
	return []row{
		info("deliveries / webhook-ids / repeats (same webhook-id: at least once)",
			fmt.Sprintf("%d / %d / %d", len(a.arrivals), len(ids), len(a.arrivals)-len(ids))),
		info("deliveries cut mid-request (sender gone)", fmt.Sprint(cut)),
		check("ticks or tasks delivered under two webhook-ids", fmt.Sprint(two), two == 0),
	}
}
