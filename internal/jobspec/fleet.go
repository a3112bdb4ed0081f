package jobspec

import (
	"fmt"
	"time"

	"github.com/herald-sched/herald/internal/rollout"
)

// Fleet is every device carrying some labels: a task targeting it runs on
// each of them.
type Fleet struct {
	// Selector lists labels a device must carry (all of them); empty
	// selects every device.
	Selector map[string]string `json:"selector"`
}

// Rollout is how a fleet task reaches its devices: in waves, stopping by
// itself when a bound is crossed.
type Rollout struct {
	// Waves are cumulative: how far the rollout reaches once each wave has
	// started, as a count ("1") or a share of the fleet ("30%"). A last
	// wave reaching the whole fleet is implied. Default: one wave.
	Waves []rollout.Wave `json:"waves,omitempty"`
	// Pause is the wait between a wave settling and the next starting.
	// Default none.
	Pause *Duration `json:"pause,omitempty"`
	// AbortIf are the bounds whose crossing aborts the rollout.
	AbortIf *rollout.AbortIf `json:"abort_if,omitempty"`
	// RequireDevices makes a fleet without a matching device fail the task
	// (default: it succeeds with no task runs, saying so).
	RequireDevices bool `json:"require_devices,omitempty"`
}

// maxPause bounds rollout.pause.
const maxPause = 7 * 24 * time.Hour

func (f *Fleet) validate(v *validator, path string) {
	(&Pool{Selector: f.Selector}).validateSelector(v, path+".selector")
	if f.Selector == nil {
		f.Selector = map[string]string{}
	}
}

func (r *Rollout) validate(v *validator, path string) {
	if i, err := rollout.Check(r.Waves); err != nil {
		v.add(fmt.Sprintf("%s.waves[%d]", path, i), "%s", err.Error())
	}
	if r.Pause != nil {
		if d := r.Pause.Std(); d < 0 || d > maxPause {
			v.add(path+".pause", "must be between 0s and %s", maxPause)
		}
	}
	if b := r.AbortIf; b != nil {
		ap := path + ".abort_if"
		if b.FailedRatio != nil && (*b.FailedRatio < 0 || *b.FailedRatio > 1) {
			v.add(ap+".failed_ratio", "must be between 0 and 1")
		}
		if b.OpenCircuits != nil && *b.OpenCircuits < 1 {
			v.add(ap+".open_circuits", "must be at least 1")
		}
		if b.Offline != nil && *b.Offline < 1 {
			v.add(ap+".offline", "must be at least 1")
		}
	}
}

// IsFleet reports whether the task runs on every device of a fleet.
func (t *Task) IsFleet() bool { return t.Target != nil && t.Target.Fleet != nil }
