package main

import (
	"encoding/json"
	"time"
)

const (
	// taskTimeout is every task's request timeout: well above the slow
	// endpoint's delay, and within any --max-request-timeout a run might
	// pass (herald's default task timeout, 30s, is not).
	taskTimeout = "5s"
	// everySecond is the per-second cron schedule (six fields, seconds first).
	everySecond = "* * * * * *"
	// labelKind and labelKey label every job the suite registers: its kind,
	// and the Idempotency-Key of its registration, so that a registration
	// that got no 2xx can still be looked for.
	labelKind = "chaos"
	labelKey  = "chaos_key"
)

// Kinds of registrations.
const (
	kindOneOff = "one-off"
	kindCron   = "cron"
	kindDAG    = "dag"
	kindManual = "manual"
)

// task is a task of a job definition.
type task struct {
	ID        string   `json:"id"`
	DependsOn []string `json:"depends_on,omitempty"`
	Request   struct {
		URL     string `json:"url"`
		Timeout string `json:"timeout"`
		Body    any    `json:"body,omitempty"`
	} `json:"request"`
}

// jobBody is the JSON of a job registration.
type jobBody struct {
	Name     string            `json:"name"`
	Schedule map[string]string `json:"schedule,omitempty"`
	Tasks    []task            `json:"tasks"`
	Labels   map[string]string `json:"labels"`
}

// newTask is a task calling url.
func newTask(id, url string, dependsOn ...string) task {
	t := task{ID: id, DependsOn: dependsOn}
	t.Request.URL = url
	t.Request.Timeout = taskTimeout
	t.Request.Body = map[string]string{"from": "herald-chaos", "task": id}
	return t
}

// newJob returns a registration of kind with the given tasks and schedule
// (nil: runs only when triggered), labelled with key.
func newJob(kind, key string, schedule map[string]string, tasks ...task) []byte {
	raw, err := json.Marshal(jobBody{
		Name:     "chaos-" + kind,
		Schedule: schedule,
		Tasks:    tasks,
		Labels:   map[string]string{labelKind: kind, labelKey: key},
	})
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return raw
}

// dagTasks are a small diamond: a, then b (slow) and c, then d.
func dagTasks(fast, slow string) []task {
	return []task{
		newTask("a", fast),
		newTask("b", slow, "a"),
		newTask("c", fast, "a"),
		newTask("d", fast, "b", "c"),
	}
}

// atSchedule fires once at t.
func atSchedule(t time.Time) map[string]string {
	return map[string]string{"at": t.UTC().Format(time.RFC3339Nano)}
}

// delaySchedule fires once d after the registration.
func delaySchedule(d time.Duration) map[string]string {
	return map[string]string{"delay": d.String()}
}

// cronSchedule fires every second.
func cronSchedule() map[string]string { return map[string]string{"cron": everySecond} }
