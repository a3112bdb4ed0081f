package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/herald-sched/herald/client"
	"github.com/herald-sched/herald/internal/jobspec"
)

// jobChange is a field that applying a file changes in a job.
type jobChange struct {
	Field string `json:"field"`
	// From and To are the field's values, nil when absent.
	From any `json:"from"`
	To   any `json:"to"`
}

func (c jobChange) String() string {
	return fmt.Sprintf("%s: %s -> %s", c.Field, shortJSON(c.From), shortJSON(c.To))
}

func shortJSON(v any) string {
	if v == nil {
		return "(none)"
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(raw), 80)
}

// compareJob lists what replacing current (the server's job) with the
// file's job would change, comparing definitions, not documents: both as
// the server keeps them, defaults filled in (a task's method POST, timeout
// 30s, ...), without the server's own fields (id, next fire times, ...).
// paused counts only when the file sets it (apply otherwise keeps a job
// paused by hand as it is). A tls.client_key, which the server never shows
// again, counts as unchanged (jobs apply --force sends it anyway).
func compareJob(cj *checkedJob, current *client.Job) ([]jobChange, error) {
	raw, err := json.Marshal(current)
	if err != nil {
		return nil, err
	}
	var have jobspec.Job
	if err := json.Unmarshal(raw, &have); err != nil {
		return nil, fmt.Errorf("read the server's job %s: %w", current.Id, err)
	}
	want := cj.spec
	if !cj.pausedGiven {
		want.Paused = have.Paused
	}
	a, err := canonicalJob(&have)
	if err != nil {
		return nil, err
	}
	b, err := canonicalJob(&want)
	if err != nil {
		return nil, err
	}
	var changes []jobChange
	diffValues("", a, b, &changes)
	return changes, nil
}

// canonicalJob is j as a JSON value in which equal definitions are equal:
// instants in UTC, private keys redacted, no labels an empty object.
func canonicalJob(j *jobspec.Job) (any, error) {
	raw, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	// Fields jobspec leaves out when empty, shown as they are.
	v["paused"] = j.Paused
	if _, ok := v["labels"]; !ok {
		v["labels"] = map[string]any{}
	}
	if s, ok := v["schedule"].(map[string]any); ok {
		if at, ok := s["at"].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
				s["at"] = t.UTC().Format(time.RFC3339Nano)
			}
		}
	}
	tasks, _ := v["tasks"].([]any)
	for _, t := range tasks {
		if tls, ok := dig(t, "request", "tls").(map[string]any); ok {
			if k, ok := tls["client_key"].(string); ok && k != "" {
				tls["client_key"] = jobspec.Redacted
			}
		}
	}
	return v, nil
}

// diffValues adds a change for every path where JSON values a and b differ.
func diffValues(path string, a, b any, out *[]jobChange) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		keys := slices.Sorted(maps.Keys(am))
		for _, k := range slices.Sorted(maps.Keys(bm)) {
			if _, ok := am[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			diffValues(joinPath(path, k), am[k], bm[k], out)
		}
		return
	}
	as, aIsList := a.([]any)
	bs, bIsList := b.([]any)
	if aIsList && bIsList {
		for i := range max(len(as), len(bs)) {
			var x, y any
			if i < len(as) {
				x = as[i]
			}
			if i < len(bs) {
				y = bs[i]
			}
			diffValues(path+"["+strconv.Itoa(i)+"]", x, y, out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, jobChange{Field: path, From: a, To: b})
	}
}
