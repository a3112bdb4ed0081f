package views

import "strings"

// StateStyle is how a state is drawn: a box's or a badge's fill, its
// border, whether the border is dashed (a task that was not run), and the
// words for it in a legend.
type StateStyle struct {
	State  string
	Label  string
	Fill   string
	Stroke string
	Dashed bool
}

// Palette is every state's style, in the order a legend lists them: a
// task's states (including those later versions may add: skipped,
// timed_out, expired, lost), then a run's own (queued), then a rollout's
// (paused, aborted, done). "" is a task not
// run (a job's topology without runs). Everything that colours a state
// (the pages' badges, the topology, the SVG and DOT exports) takes it from
// here.
var Palette = []StateStyle{
	{State: "", Label: "not run", Fill: "#ffffff", Stroke: "#5b6576"},
	{State: "waiting", Label: "waiting", Fill: "#f1f3f6", Stroke: "#8a94a6"},
	{State: "pending", Label: "pending", Fill: "#e2eafa", Stroke: "#5f7db8"},
	{State: "running", Label: "running", Fill: "#c9dcff", Stroke: "#2f66d0"},
	{State: "retrying", Label: "retrying", Fill: "#ffe4a8", Stroke: "#c48600"},
	{State: "succeeded", Label: "succeeded", Fill: "#cdeccf", Stroke: "#2e8b3a"},
	{State: "failed", Label: "failed", Fill: "#f8c4bf", Stroke: "#c62828"},
	{State: "upstream_failed", Label: "upstream failed", Fill: "#e6dbf5", Stroke: "#7b4bc4", Dashed: true},
	{State: "cancelled", Label: "cancelled", Fill: "#e3e3e3", Stroke: "#777777"},
	{State: "skipped", Label: "skipped", Fill: "#f5f5f5", Stroke: "#999999", Dashed: true},
	{State: "timed_out", Label: "timed out", Fill: "#ffd5b8", Stroke: "#d2601a"},
	{State: "expired", Label: "expired", Fill: "#eee2cc", Stroke: "#96763a"},
	{State: "lost", Label: "lost", Fill: "#f9cde1", Stroke: "#b0306a"},
	{State: "queued", Label: "queued", Fill: "#fff1c9", Stroke: "#b08a1e"},
	// A fleet task's rollout (its running is a task's).
	{State: "paused", Label: "paused", Fill: "#fbf6dc", Stroke: "#8f7a2a", Dashed: true},
	{State: "aborted", Label: "aborted", Fill: "#fbd9d0", Stroke: "#a3341f"},
	{State: "done", Label: "done", Fill: "#e4efe5", Stroke: "#4f7a55"},
}

// unknownState styles a state the palette does not know.
var unknownState = StateStyle{Fill: "#dde2ea", Stroke: "#5b6576"}

var paletteIndex = func() map[string]int {
	m := make(map[string]int, len(Palette))
	for i, s := range Palette {
		m[s.State] = i
	}
	return m
}()

// StyleOf returns a state's style.
func StyleOf(state string) StateStyle {
	if i, ok := paletteIndex[state]; ok {
		return Palette[i]
	}
	s := unknownState
	s.State, s.Label = state, state
	return s
}

// DashArray is the SVG stroke-dasharray of the style's border ("" for a
// solid one).
func (s StateStyle) DashArray() string {
	if s.Dashed {
		return "4 3"
	}
	return ""
}

// paletteCSS styles the badges (.s-<state>) and the timeline's bars
// (.o-<state>) after the palette.
var paletteCSS = func() string {
	var b strings.Builder
	for _, s := range Palette {
		if s.State == "" {
			continue
		}
		border := "solid"
		if s.Dashed {
			border = "dashed"
		}
		b.WriteString(".s-" + s.State + "{background:" + s.Fill + ";border:1px " + border + " " + s.Stroke + "}")
		b.WriteString(".o-" + s.State + "{background:" + s.Stroke + "}")
	}
	return b.String()
}()

// timelineOutcomes are an attempt's outcomes (the task states it can end
// in, and running while its request is on its way), as the timeline's
// legend lists them.
var timelineOutcomes = []string{"succeeded", "retrying", "failed", "lost", "running"}

// outcomeClass is the class that colours an attempt's bar by its outcome.
func outcomeClass(outcome string) string { return "o-" + outcome }

// outcomeLabel names an outcome in the timeline's legend.
func outcomeLabel(outcome string) string {
	if outcome == "running" {
		return "sending"
	}
	return "sent: " + StyleOf(outcome).Label
}
