package views

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/state"
)

// Every state has its own colours: failed and upstream_failed apart, and
// room for the states to come.
func TestPalette(t *testing.T) {
	t.Parallel()
	fills, strokes := map[string]string{}, map[string]string{}
	for _, s := range Palette {
		require.NotContains(t, fills, s.Fill, "%q and %q share a fill", s.State, fills[s.Fill])
		fills[s.Fill] = s.State
		require.NotContains(t, strokes, s.Stroke+s.DashArray(), "%q and %q share a border", s.State, strokes[s.Stroke])
		strokes[s.Stroke+s.DashArray()] = s.State
		require.NotEmpty(t, s.Label)
	}
	for _, state := range append(StateOrder, "skipped", "timed_out", "expired", "lost", "") {
		got := StyleOf(state)
		require.NotEqual(t, unknownState.Fill, got.Fill, "%q is not in the palette", state)
	}
	require.NotEqual(t, StyleOf("failed").Fill, StyleOf("upstream_failed").Fill)
	got := StyleOf("exploded")
	require.Equal(t, "exploded", got.Label, "got %v, want %v", got.Label, "exploded")
	require.Contains(t, paletteCSS, ".s-upstream_failed{background:"+StyleOf("upstream_failed").Fill)
}

// Every state internal/state defines has its style: the pages can draw
// whatever a run or task is in.
func TestPaletteCoversEveryState(t *testing.T) {
	t.Parallel()
	for _, s := range state.Tasks() {
		if _, ok := paletteIndex[string(s)]; !ok {
			t.Errorf("task state %s has no style", s)
		}
	}
	for _, s := range state.Runs() {
		if _, ok := paletteIndex[string(s)]; !ok {
			t.Errorf("run state %s has no style", s)
		}
	}
}
