package jobspec

import (
	"fmt"
	"time"

	"github.com/herald-sched/herald/internal/condition"
	"github.com/herald-sched/herald/internal/dag"
)

// The checks of workflow options: a job's run_timeout, on_run_end and
// inbound trigger, a task's run_if and when.

// validateWorkflow checks the job's workflow options.
func (j *Job) validateWorkflow(v *validator, lim Limits, checkURL func(string) error) {
	if j.RunTimeout != nil {
		if d := j.RunTimeout.Std(); d < time.Second || d > MaxRunTimeout {
			v.add("run_timeout", "must be between 1s and %s (leave it out for no limit)", MaxRunTimeout)
		}
	}
	if cb := j.OnRunEnd; cb != nil {
		if cb.URL == "" {
			v.add("on_run_end.url", "is required")
		} else if err := checkURL(cb.URL); err != nil {
			v.add("on_run_end.url", "%s", err.Error())
		}
		validateHeaders(v, "on_run_end.headers", cb.Headers, lim)
	}
}

// validateFlow checks the task's run_if and compiles its when.
func (t *Task) validateFlow(v *validator, path string) {
	switch t.RunIf {
	case "", RunIfAllSucceeded:
	case RunIfAnyFailed, RunIfAllDone:
		if len(t.DependsOn) == 0 {
			v.add(path+".run_if", "task %q: %s applies to tasks with depends_on (a task without parents runs at once)", t.ID, t.RunIf)
		}
	default:
		v.add(path+".run_if", "must be one of all_succeeded, any_failed, all_done")
	}
	if t.When == "" {
		return
	}
	c, err := condition.Compile(t.When)
	switch {
	case err != nil:
		v.add(path+".when", "task %q: %s", t.ID, err.Error())
	case c.Dynamic:
		v.add(path+".when", "task %q: name the tasks a condition uses (tasks.<id> or tasks[\"<id>\"])", t.ID)
	}
}

// validateWhenRefs checks that the condition of task i names only tasks
// upstream of it.
func validateWhenRefs(v *validator, g *dag.Graph, tasks []Task, i int) {
	if tasks[i].When == "" {
		return
	}
	c, err := condition.Cached(tasks[i].When)
	if err != nil {
		return // reported by validateFlow
	}
	path := fmt.Sprintf("tasks[%d].when", i)
	for _, id := range c.Tasks {
		up, ok := g.Index(id)
		switch {
		case !ok:
			v.add(path, "task %q: the condition uses task %q, which does not exist", tasks[i].ID, id)
		case !g.IsAncestor(up, i):
			v.add(path, "task %q: the condition uses task %q, which is not upstream of it: add it to depends_on (directly or through another task)", tasks[i].ID, id)
		}
	}
}

// ConditionTasks returns the ids of the tasks the task's condition uses,
// nil when it has none (or it does not compile).
func (t *Task) ConditionTasks() []string {
	if t.When == "" {
		return nil
	}
	c, err := condition.Cached(t.When)
	if err != nil {
		return nil
	}
	return c.Tasks
}
