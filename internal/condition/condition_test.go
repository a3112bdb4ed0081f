package condition

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompileNamesTasksAndInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		expr        string
		wantTasks   []string
		wantDynamic bool
		wantInput   bool
	}{
		{"select", `tasks.fetch.status == 200`, []string{"fetch"}, false, false},
		{"index by constant", `tasks["a-b"].body.ok && tasks.c.state == "failed"`, []string{"a-b", "c"}, false, false},
		{"has", `has(tasks.a.body.x)`, []string{"a"}, false, false},
		{"dynamic index", `tasks[input.name].status == 200`, nil, true, true},
		{"size", `size(tasks) > 1`, nil, true, false},
		{"input only", `input.region == "eu"`, nil, false, true},
		{"constant", `true`, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Compile(tt.expr)
			require.NoError(t, err)
			require.Equal(t, tt.wantTasks, c.Tasks, "got %v, want %v", c.Tasks, tt.wantTasks)
			require.Equal(t, tt.wantDynamic, c.Dynamic, "got %v, want %v", c.Dynamic, tt.wantDynamic)
			require.Equal(t, tt.wantInput, c.Input, "got %v, want %v", c.Input, tt.wantInput)
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, want string
	}{
		{"syntax", `tasks.a.status ==`, "Syntax error"},
		{"not boolean", `tasks.a.status + 1`, "must be boolean, is int"},
		{"string", `"yes"`, "must be boolean, is string"},
		{"unknown variable", `steps.a == 1`, "undeclared reference to 'steps'"},
		{"empty", "  ", "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.expr)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestEval(t *testing.T) {
	t.Parallel()
	tasks := map[string]Outcome{
		"fetch": {State: "succeeded", Status: 200, Body: json.RawMessage(`{"count": 3, "ratio": 0.5, "items": [{"ok": true}]}`)},
		"down":  {State: "failed", Status: 503},
	}
	input := json.RawMessage(`{"region": "eu", "n": 2}`)
	tests := []struct {
		name  string
		expr  string
		input json.RawMessage
		want  bool
	}{
		{"status", `tasks.fetch.status == 200`, nil, true},
		{"int body", `tasks.fetch.body.count > 2`, nil, true},
		{"cross numeric", `tasks.fetch.body.ratio < 1 && tasks.fetch.body.count > 2.5`, nil, true},
		{"nested", `tasks.fetch.body.items[0].ok`, nil, true},
		{"state", `tasks.down.state == "failed" && tasks.down.body == null`, nil, true},
		{"input", `input.region == "eu" && input.n == 2`, input, true},
		{"no input", `input == null`, nil, true},
		{"false", `tasks.fetch.body.count == 4`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Compile(tt.expr)
			require.NoError(t, err)
			got, err := c.Eval(tt.input, tasks)
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestEvalErrorsNameTheExpression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, want string
	}{
		{"missing key", `tasks.a.body.nope == 1`, `condition "tasks.a.body.nope == 1" failed: no such key: nope`},
		{"missing task", `tasks.zz.status == 200`, `condition "tasks.zz.status == 200" failed: no such key: zz`},
		{"dyn not boolean", `input.n`, `condition "input.n" failed: evaluated to 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Compile(tt.expr)
			require.NoError(t, err)
			_, err = c.Eval(json.RawMessage(`{"n": 2}`), map[string]Outcome{"a": {State: "succeeded", Status: 200, Body: json.RawMessage(`{}`)}})
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestCostLimitStopsAnExpensiveCondition(t *testing.T) {
	t.Parallel()
	c, err := Compile(`[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, a+b+c+d+e > 0)))))`)
	require.NoError(t, err)
	_, err = c.Eval(nil, nil)
	require.ErrorContains(t, err, "cost limit")
}
