package jobspec_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/jobspec"
)

// Workflow options are checked at registration, naming the field and, for
// a task, its id.
func TestValidateWorkflowOptions(t *testing.T) {
	t.Parallel()
	// dag is a job of tasks a and b (b after a); extra ends b's object.
	dag := func(job, extra string) string {
		return `{"name": "j"` + job + `, "tasks": [{"id": "a", "request": {"url": "https://gw.example/a"}},
			{"id": "b", "depends_on": ["a"], "request": {"url": "https://gw.example/b"}` + extra + `}]}`
	}
	tests := []struct {
		name        string
		job         string
		wantField   string // "": valid
		wantMessage string
	}{
		{name: "run_timeout 1s", job: dag(`, "run_timeout": "1s"`, ``)},
		{name: "run_timeout 7 days", job: dag(`, "run_timeout": "168h"`, ``)},
		{name: "run_timeout below 1s", job: dag(`, "run_timeout": "999ms"`, ``), wantField: "run_timeout"},
		{name: "run_timeout above 7 days", job: dag(`, "run_timeout": "168h1s"`, ``), wantField: "run_timeout"},
		{name: "run_if any_failed", job: dag(``, `, "run_if": "any_failed"`)},
		{name: "run_if all_done", job: dag(``, `, "run_if": "all_done"`)},
		{name: "run_if outside the enum", job: dag(``, `, "run_if": "one_failed"`), wantField: "tasks[1].run_if",
			wantMessage: "must be one of all_succeeded, any_failed, all_done"},
		{name: "run_if on a root", job: `{"name": "j", "tasks": [{"id": "a", "run_if": "any_failed", "request": {"url": "https://gw.example/a"}}]}`,
			wantField: "tasks[0].run_if"},
		{name: "when over a parent", job: dag(``, `, "when": "tasks.a.status == 200 && tasks.a.body.ok"`)},
		{name: "when over input", job: dag(``, `, "when": "input.region == 'eu'"`)},
		{name: "when not compiling", job: dag(``, `, "when": "tasks.a.status =="`), wantField: "tasks[1].when",
			wantMessage: `task "b": ERROR: <input>:1:18: Syntax error`},
		{name: "when not boolean", job: dag(``, `, "when": "tasks.a.status + 1"`), wantField: "tasks[1].when",
			wantMessage: `task "b": must be boolean, is int`},
		{name: "when over a task not upstream", job: `{"name": "j", "tasks": [{"id": "a", "request": {"url": "https://gw.example/a"}},
			{"id": "b", "when": "tasks.a.status == 200", "request": {"url": "https://gw.example/b"}}]}`, wantField: "tasks[1].when",
			wantMessage: `task "b": the condition uses task "a", which is not upstream of it`},
		{name: "when over an unknown task", job: dag(``, `, "when": "tasks.zz.status == 200"`), wantField: "tasks[1].when",
			wantMessage: `task "b": the condition uses task "zz", which does not exist`},
		{name: "when indexing tasks dynamically", job: dag(``, `, "when": "tasks[input.t].status == 200"`), wantField: "tasks[1].when"},
		{name: "when too long", job: dag(``, `, "when": "`+strings.Repeat("true && ", 600)+`true"`), wantField: "tasks[1].when"},
		{name: "input reference", job: dag(``, `, "headers": {"X-Region": "{{ input.region }}"}`)},
		{name: "on_run_end", job: dag(`, "on_run_end": {"url": "https://hooks.example/end", "headers": {"X-K": "v"}}`, ``)},
		{name: "on_run_end without url", job: dag(`, "on_run_end": {}`, ``), wantField: "on_run_end.url"},
		{name: "on_run_end reserved header", job: dag(`, "on_run_end": {"url": "https://hooks.example/end", "headers": {"Webhook-Id": "x"}}`, ``),
			wantField: "on_run_end.headers.Webhook-Id"},
		{name: "on_run_end refused url", job: dag(`, "on_run_end": {"url": "https://refused.example/end"}`, ``), wantField: "on_run_end.url"},
	}
	checkURL := func(u string) error {
		if strings.Contains(u, "refused") {
			return errors.New("refused")
		}
		return nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j jobspec.Job
			require.NoError(t, json.Unmarshal([]byte(tt.job), &j))
			err := j.Validate(time.Now(), jobspec.Limits{}, checkURL)
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			var fe jobspec.Errors
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.wantField, fe[0].Field, "got %v, want %v", fe, tt.wantField)
			require.Contains(t, fe[0].Message, tt.wantMessage)
		})
	}
}

// Results used by a condition are kept, like those a template refers to.
func TestReferencedTasksIncludeConditions(t *testing.T) {
	t.Parallel()
	tasks := []jobspec.Task{
		{ID: "a"}, {ID: "b"}, {ID: "in"},
		{ID: "c", DependsOn: []string{"a", "b", "in"}, When: `tasks.a.status == 200`,
			Request: jobspec.Request{URL: "https://x.example/{{ tasks.b.body.id }}/{{ input.id }}"}},
	}
	got := jobspec.ReferencedTasks(tasks)
	want := map[string]bool{"a": true, "b": true}
	require.Equal(t, want, got, "got %v, want %v", got, want)
	require.True(t, tasks[3].Request.UsesInput())
	require.False(t, tasks[0].Request.UsesInput())
}
