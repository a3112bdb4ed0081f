package jobspec

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/herald-sched/herald/internal/dag"
	"github.com/herald-sched/herald/internal/taskref"
)

// Graph returns the task graph of validated tasks.
func Graph(tasks []Task) (*dag.Graph, error) {
	edges := 0
	for i := range tasks {
		edges += len(tasks[i].DependsOn)
	}
	return dag.Build(dagTasks(tasks), dag.Limits{MaxTasks: len(tasks) + 1, MaxEdges: edges + 1})
}

func dagTasks(tasks []Task) []dag.Task {
	out := make([]dag.Task, len(tasks))
	for i := range tasks {
		out[i] = dag.Task{ID: tasks[i].ID, DependsOn: tasks[i].DependsOn}
	}
	return out
}

// hasTemplate reports whether the request may refer to upstream results.
func (r *Request) hasTemplate() bool {
	if strings.Contains(r.URL, "{{") || strings.Contains(string(r.Body), "{{") {
		return true
	}
	for _, v := range r.Headers {
		if strings.Contains(v, "{{") {
			return true
		}
	}
	return false
}

// references returns every reference of the request's URL, header values and
// body, or the first syntax error with the field it is in (relative to the
// request: "url", "headers.X-Name", "body").
func (r *Request) references() ([]taskref.Ref, string, error) {
	if !r.hasTemplate() {
		return nil, "", nil
	}
	refs, err := taskref.Parse(r.URL)
	if err != nil {
		return nil, "url", err
	}
	for name, v := range r.Headers {
		hr, err := taskref.Parse(v)
		if err != nil {
			return nil, "headers." + name, err
		}
		refs = append(refs, hr...)
	}
	if len(r.Body) > 0 {
		br, err := taskref.ParseJSON(r.Body)
		if err != nil {
			return nil, "body", err
		}
		refs = append(refs, br...)
	}
	return refs, "", nil
}

// Refs returns the ids of the tasks whose results the request refers to.
func (r *Request) Refs() []string {
	refs, _, err := r.references()
	if err != nil || len(refs) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(refs))
	var out []string
	for _, ref := range refs {
		if !ref.IsInput() && !seen[ref.Task] {
			seen[ref.Task] = true
			out = append(out, ref.Task)
		}
	}
	return out
}

// UsesInput reports whether the request refers to the run's input.
func (r *Request) UsesInput() bool {
	refs, _, err := r.references()
	if err != nil {
		return false
	}
	for _, ref := range refs {
		if ref.IsInput() {
			return true
		}
	}
	return false
}

// ReferencedTasks returns the set of tasks whose results some task refers to,
// in a template or a condition: those results must be kept when the tasks
// end.
func ReferencedTasks(tasks []Task) map[string]bool {
	out := map[string]bool{}
	for i := range tasks {
		for _, id := range tasks[i].Request.Refs() {
			out[id] = true
		}
		for _, id := range tasks[i].ConditionTasks() {
			out[id] = true
		}
	}
	return out
}

// Render returns a copy of the request with its references filled in from
// results (keyed by task id).
func (r *Request) Render(results map[string]taskref.Result) (*Request, error) {
	out := *r
	var err error
	if out.URL, err = taskref.RenderURL(r.URL, results); err != nil {
		return nil, fmt.Errorf("request.url: %w", err)
	}
	if len(r.Headers) > 0 {
		out.Headers = make(map[string]string, len(r.Headers))
		for name, v := range r.Headers {
			if out.Headers[name], err = taskref.Render(v, results); err != nil {
				return nil, fmt.Errorf("request.headers.%s: %w", name, err)
			}
		}
	}
	if len(r.Body) > 0 {
		body, err := taskref.RenderJSON(r.Body, results)
		if err != nil {
			return nil, fmt.Errorf("request.body: %w", err)
		}
		out.Body = json.RawMessage(body)
	}
	return &out, nil
}
