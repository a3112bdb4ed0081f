package dag

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tasks builds a task list from "id:dep,dep" specs.
func tasks(specs ...string) []Task {
	out := make([]Task, len(specs))
	for i, s := range specs {
		id, deps, _ := strings.Cut(s, ":")
		out[i].ID = id
		if deps != "" {
			out[i].DependsOn = strings.Split(deps, ",")
		}
	}
	return out
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 65)
	tests := []struct {
		name   string
		tasks  []Task
		limits Limits
		want   Error
	}{
		{"empty id", tasks("a", ""), Limits{},
			Error{KindInvalidID, 1, []string{""}, "task id is empty: want 1-64 letters, digits, '_' or '-'"}},
		{"id with space", tasks("a b"), Limits{},
			Error{KindInvalidID, 0, []string{"a b"}, `task id "a b" is invalid: want 1-64 letters, digits, '_' or '-'`}},
		{"id with dot", tasks("a", "b.c:a"), Limits{},
			Error{KindInvalidID, 1, []string{"b.c"}, `task id "b.c" is invalid: want 1-64 letters, digits, '_' or '-'`}},
		{"id too long", tasks(long), Limits{},
			Error{KindInvalidID, 0, []string{long}, `task id "` + long + `" is invalid: want 1-64 letters, digits, '_' or '-'`}},
		{"non-ascii id", tasks("café"), Limits{},
			Error{KindInvalidID, 0, []string{"café"}, `task id "café" is invalid: want 1-64 letters, digits, '_' or '-'`}},
		{"duplicate id", tasks("a", "b", "a:b"), Limits{},
			Error{KindDuplicateID, 2, []string{"a"}, `task id "a" is used by tasks 0 and 2`}},
		{"unknown dependency", tasks("a", "b:a,zz"), Limits{},
			Error{KindUnknownDependency, 1, []string{"b", "zz"}, `task "b" depends on unknown task "zz"`}},
		{"dependency with invalid id", tasks("a:x y"), Limits{},
			Error{KindUnknownDependency, 0, []string{"a", "x y"}, `task "a" depends on unknown task "x y"`}},
		{"self loop", tasks("a", "b:a,b"), Limits{},
			Error{KindSelfLoop, 1, []string{"b"}, `task "b" depends on itself`}},
		{"duplicate dependency", tasks("a", "b", "c:a,b,a"), Limits{},
			Error{KindDuplicateDependency, 2, []string{"c", "a"}, `task "c" lists dependency "a" more than once`}},
		{"cycle of two", tasks("a:b", "b:a"), Limits{},
			Error{KindCycle, 0, []string{"a", "b", "a"}, "cycle: a -> b -> a (each task depends on the one before it)"}},
		{"cycle of three", tasks("a:c", "b:a", "c:b"), Limits{},
			Error{KindCycle, 0, []string{"a", "b", "c", "a"}, "cycle: a -> b -> c -> a (each task depends on the one before it)"}},
		{"cycle after the first tasks", tasks("root", "ok:root", "down:z", "x:root,z", "y:x", "z:y"), Limits{},
			Error{KindCycle, 3, []string{"x", "y", "z", "x"}, "cycle: x -> y -> z -> x (each task depends on the one before it)"}},
		{"too many tasks", tasks("a", "b", "c"), Limits{MaxTasks: 2},
			Error{KindTooManyTasks, -1, nil, "the job has 3 tasks, more than the limit of 2"}},
		{"too many edges", tasks("a", "b:a", "c:a,b"), Limits{MaxEdges: 2},
			Error{KindTooManyEdges, -1, nil, "the job has 3 dependencies, more than the limit of 2"}},
		// The first error in input order wins, whatever its kind.
		{"dependency error before id error", tasks("a:zz", "a"), Limits{},
			Error{KindUnknownDependency, 0, []string{"a", "zz"}, `task "a" depends on unknown task "zz"`}},
		{"id error before dependency error", tasks("a", "a", "b:zz"), Limits{},
			Error{KindDuplicateID, 1, []string{"a"}, `task id "a" is used by tasks 0 and 1`}},
		{"id error before a later id error", tasks("a", "b c", "a"), Limits{},
			Error{KindInvalidID, 1, []string{"b c"}, `task id "b c" is invalid: want 1-64 letters, digits, '_' or '-'`}},
		{"dependency errors before a cycle", tasks("a:b", "b:a", "c:c"), Limits{},
			Error{KindSelfLoop, 2, []string{"c"}, `task "c" depends on itself`}},
		{"limits before everything", tasks("a:a", "a"), Limits{MaxTasks: 1},
			Error{KindTooManyTasks, -1, nil, "the job has 2 tasks, more than the limit of 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := Build(tt.tasks, tt.limits)
			require.Nil(t, g)
			var got *Error
			require.True(t, errors.As(err, &got), "got %v, want an *Error", err)
			require.Equal(t, tt.want, *got, "got %v, want %v", *got, tt.want)
			require.Equal(t, tt.want.Msg, err.Error())
		})
	}
}

func TestBuildQuotesLongIDsShortly(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 1000)
	_, err := Build(tasks("a:"+long), Limits{})
	var got *Error
	require.ErrorAs(t, err, &got)
	require.Equal(t, []string{"a", long}, got.IDs)
	require.Less(t, len(got.Msg), 300, "got %d bytes, want a short message", len(got.Msg))
	require.Contains(t, got.Msg, "(2000 bytes)")
}

func TestBuildCycleDeterministic(t *testing.T) {
	t.Parallel()
	// Two cycles; the walk starts at the first task that cannot be
	// ordered ("d", downstream of both) and follows first parents.
	in := tasks("r", "d:q,p", "p:r,pp", "pp:p", "q:qq", "qq:q")
	want := []string{"q", "qq", "q"}
	for range 5 {
		_, err := Build(in, Limits{})
		var got *Error
		require.ErrorAs(t, err, &got)
		require.Equal(t, KindCycle, got.Kind)
		require.Equal(t, want, got.IDs, "got %v, want %v", got.IDs, want)
		require.Equal(t, 4, got.Index)
	}
}

func TestBuildLongCycleMessageIsAbbreviated(t *testing.T) {
	t.Parallel()
	const n = 1000
	in := make([]Task, n)
	for i := range n {
		in[i] = Task{ID: fmt.Sprintf("t%d", i), DependsOn: []string{fmt.Sprintf("t%d", (i+n-1)%n)}}
	}
	_, err := Build(in, Limits{})
	var got *Error
	require.ErrorAs(t, err, &got)
	require.Len(t, got.IDs, n+1)
	require.Equal(t, "t0", got.IDs[0])
	require.Equal(t, "t1", got.IDs[1])
	require.Equal(t, "t999", got.IDs[n-1])
	require.Equal(t, "t0", got.IDs[n])
	want := "cycle: t0 -> t1 -> t2 -> t3 -> t4 -> t5 -> t6 -> t7 -> t8 -> t9 -> (989 more) -> t999 -> t0 (each task depends on the one before it)"
	require.Equal(t, want, got.Msg)
}

func TestBuildLimitsAtTheBoundary(t *testing.T) {
	t.Parallel()
	_, err := Build(tasks("a", "b:a", "c:a,b"), Limits{MaxTasks: 3, MaxEdges: 3})
	require.NoError(t, err)
}

func TestBuildDefaultLimits(t *testing.T) {
	t.Parallel()
	in := make([]Task, DefaultMaxTasks+1)
	for i := range in {
		in[i].ID = fmt.Sprintf("t%d", i)
	}
	_, err := Build(in[:DefaultMaxTasks], Limits{})
	require.NoError(t, err)
	_, err = Build(in, Limits{})
	var got *Error
	require.ErrorAs(t, err, &got)
	require.Equal(t, KindTooManyTasks, got.Kind)

	// 10 tasks each depending on 10,001 tasks: 100,010 edges.
	deps := make([]string, 0, 10_001)
	for _, task := range in[:10_001] {
		deps = append(deps, task.ID)
	}
	many := make([]Task, 10)
	for i := range many {
		many[i] = Task{ID: fmt.Sprintf("u%d", i), DependsOn: deps}
	}
	_, err = Build(many, Limits{MaxTasks: 20})
	require.ErrorAs(t, err, &got)
	require.Equal(t, KindTooManyEdges, got.Kind)
	require.Equal(t, "the job has 100010 dependencies, more than the limit of 100000", got.Msg)
}

func TestValidID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"Fetch_token-2", true},
		{strings.Repeat("z", 64), true},
		{"", false},
		{strings.Repeat("z", 65), false},
		{"a.b", false},
		{"a b", false},
		{"a/b", false},
		{"ü", false},
		{"a\x00", false},
	}
	for _, tt := range tests {
		got := ValidID(tt.id)
		require.Equal(t, tt.want, got, "ValidID(%q): got %v, want %v", tt.id, got, tt.want)
	}
}
