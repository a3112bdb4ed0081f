package main

import (
	"encoding/json"
	"fmt"
)

// Schedules the scenarios register.
const (
	// everySecond fires at every whole second (6-field cron).
	everySecond = "* * * * * *"
	// farFuture fires once a year, at midnight on 1 January: an active
	// schedule that does not fire during a benchmark.
	farFuture = "0 0 1 1 *"
	// laterDelay is a one-off schedule far enough ahead not to fire during
	// a benchmark.
	laterDelay = "24h"
)

// jobBody is the body of POST /v1/jobs, as much of it as the benchmark uses.
type jobBody struct {
	Name     string        `json:"name"`
	Schedule *scheduleBody `json:"schedule,omitempty"`
	Tasks    []taskBody    `json:"tasks"`
}

type scheduleBody struct {
	Cron  string `json:"cron,omitempty"`
	Delay string `json:"delay,omitempty"`
}

type taskBody struct {
	ID        string      `json:"id,omitempty"`
	DependsOn []string    `json:"depends_on,omitempty"`
	Request   requestBody `json:"request"`
	Target    *targetBody `json:"target,omitempty"`
}

type requestBody struct {
	URL string `json:"url,omitempty"`
}

// targetBody sends a task to one device or to a pool instead of a URL.
type targetBody struct {
	Device string     `json:"device,omitempty"`
	Pool   *poolBody  `json:"pool,omitempty"`
	Fleet  *fleetBody `json:"fleet,omitempty"`
	Path   string     `json:"path,omitempty"`
}

type fleetBody struct {
	Selector map[string]string `json:"selector"`
}

type poolBody struct {
	Selector map[string]string `json:"selector"`
	Strategy string            `json:"strategy,omitempty"`
	TopN     int               `json:"top_n,omitempty"`
}

// webhookJob is a single-task job calling url, with schedule (nil: run
// only when triggered) and herald's default retry policy.
func webhookJob(name, url string, schedule *scheduleBody) []byte {
	return mustJSON(jobBody{
		Name:     name,
		Schedule: schedule,
		Tasks:    []taskBody{{Request: requestBody{URL: url}}},
	})
}

// targetJob is a single-task job sent to target, run only when triggered.
func targetJob(name string, target *targetBody) []byte {
	return mustJSON(jobBody{Name: name, Tasks: []taskBody{{Target: target}}})
}

// cronJob is webhookJob on a cron schedule.
func cronJob(name, url, cron string) []byte {
	return webhookJob(name, url, &scheduleBody{Cron: cron})
}

// dagShape is the DAG scenario's topology: a root fans out to a wide layer,
// which fans in to one join task, followed by a chain.
type dagShape struct {
	wide, chain int
}

// newDAGShape returns the shape of tasks tasks ending in a chain of (at
// most) chain tasks; at least one wide task remains.
func newDAGShape(tasks, chain int) (dagShape, error) {
	chain = min(chain, tasks-3)
	if chain < 1 {
		return dagShape{}, fmt.Errorf("a DAG needs at least 4 tasks, not %d", tasks)
	}
	return dagShape{wide: tasks - 2 - chain, chain: chain}, nil
}

// Tasks is the DAG's task count.
func (s dagShape) Tasks() int { return 2 + s.wide + s.chain }

// Task ids of the DAG.
const (
	dagRoot = "root"
	dagJoin = "join"
)

// wideID and chainID name the i-th (0-based) wide and chain tasks.
func wideID(i int) string  { return fmt.Sprintf("w%d", i) }
func chainID(i int) string { return fmt.Sprintf("c%d", i) }

// Job returns the DAG job calling url for every task, run only when triggered.
func (s dagShape) Job(url string) []byte {
	task := func(id string, parents ...string) taskBody {
		return taskBody{ID: id, DependsOn: parents, Request: requestBody{URL: url}}
	}
	tasks := make([]taskBody, 0, s.Tasks())
	tasks = append(tasks, task(dagRoot))
	wide := make([]string, s.wide)
	for i := range wide {
		wide[i] = wideID(i)
		tasks = append(tasks, task(wide[i], dagRoot))
	}
	tasks = append(tasks, task(dagJoin, wide...))
	parent := dagJoin
	for i := range s.chain {
		tasks = append(tasks, task(chainID(i), parent))
		parent = chainID(i)
	}
	return mustJSON(jobBody{Name: fmt.Sprintf("bench-dag-%d", s.Tasks()), Tasks: tasks})
}

// mustJSON encodes v, which is made of plain structs that always encode.
func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	return raw
}
