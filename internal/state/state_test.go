package state_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/state"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// PostgreSQL's CHECK constraints list exactly the states Go defines.
func TestCheckConstraintsListTheSameValues(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	quoted := regexp.MustCompile(`'([a-z_]+)'::text`)
	values := func(constraint string) []string {
		var def string
		require.NoError(t, pool.QueryRow(t.Context(),
			`SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1`, constraint).Scan(&def))
		var out []string
		for _, m := range quoted.FindAllStringSubmatch(def, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		constraint string
		want       []string
	}{
		{"runs_state_check", strs(state.Runs())},
		{"task_runs_state_check", strs(state.Tasks())},
		{"attempts_outcome_check", strs(state.Outcomes())},
	}
	for _, tt := range tests {
		t.Run(tt.constraint, func(t *testing.T) {
			t.Parallel()
			slices.Sort(tt.want)
			if got := values(tt.constraint); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFinalStates(t *testing.T) {
	t.Parallel()
	var finalRuns, finalTasks []string
	for _, r := range state.Runs() {
		if r.Final() {
			finalRuns = append(finalRuns, string(r))
		}
	}
	for _, s := range state.Tasks() {
		if s.Final() {
			finalTasks = append(finalTasks, string(s))
		}
	}
	require.Equal(t, []string{"skipped", "succeeded", "failed", "cancelled", "timed_out"}, finalRuns)
	require.Equal(t, []string{"succeeded", "failed", "upstream_failed", "cancelled", "expired", "skipped"}, finalTasks)
}

func strs[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}
