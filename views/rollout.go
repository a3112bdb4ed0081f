package views

import "strconv"

// RolloutView is a fleet task's rollout on its run's page: where it
// stands and each wave's members by state (counts only: a page of a
// 10,000-device rollout costs one grouped count).
type RolloutView struct {
	// TaskID is the fleet task.
	TaskID string
	// Status is running, paused, aborted or done.
	Status string
	// Reason says why it was aborted, or how it ended.
	Reason string
	// Devices counts the fleet's members.
	Devices int
	// WavesStarted counts the waves started.
	WavesStarted int
	// Waves are the waves, in order.
	Waves []WaveView
}

// WaveView is one wave's members by state.
type WaveView struct {
	Size, Waiting, Queued, Running, Succeeded, Failed, Cancelled int
}

// Settled counts the wave's members that ended.
func (w WaveView) Settled() int { return w.Succeeded + w.Failed + w.Cancelled }

// Percent is n as a share of the wave, for a bar's width ("37.5%").
func (w WaveView) Percent(n int) string {
	if w.Size == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(n)/float64(w.Size), 'f', 1, 64) + "%"
}

// CanPause says a Pause button applies: the rollout runs in a running run.
func (b RunBody) CanPause(r RolloutView) bool {
	return r.Status == "running" && b.Run.State == "running"
}

// CanResume says a Resume button applies: the rollout is paused or aborted
// in a running run.
func (b RunBody) CanResume(r RolloutView) bool {
	return (r.Status == "paused" || r.Status == "aborted") && b.Run.State == "running"
}
