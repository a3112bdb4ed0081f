package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/herald-sched/herald/internal/state"
)

// Status is where a rollout stands.
type Status string

// Statuses of a rollout.
const (
	// Running: its waves start as they are due.
	Running Status = "running"
	// Paused: POST /v1/runs/{id}/pause holds it; what was not sent waits
	// for a resume.
	Paused Status = "paused"
	// Aborted: an abort_if bound was crossed; what was not sent was
	// cancelled, and a resume sends it.
	Aborted Status = "aborted"
	// Done: every wave has started and settled.
	Done Status = "done"
)

// AbortIf are the bounds that abort a rollout; a nil field is no bound.
type AbortIf struct {
	// FailedRatio aborts when the members failed exceed this share of the
	// members of the waves started so far (since the last resume).
	FailedRatio *float64 `json:"failed_ratio,omitempty"`
	// OpenCircuits aborts when at least this many of the fleet's devices
	// have their circuit open.
	OpenCircuits *int `json:"open_circuits,omitempty"`
	// Offline aborts when at least this many of the fleet's devices went
	// offline after the rollout started.
	Offline *int `json:"offline,omitempty"`
}

// Counts are a wave's members by where they stand.
type Counts struct {
	// Held are not sent: their wave has not started, or a pause holds them.
	Held int
	// Queued are due to be sent: enqueued, or waiting for a retry.
	Queued int
	// Running are being sent now.
	Running int
	// Succeeded, Failed (expired included) and Cancelled are settled.
	Succeeded, Failed, Cancelled int
}

// Add counts n members in task state st: waiting is Held, pending and
// retrying Queued, skipped Succeeded, expired (and any other failure)
// Failed.
func (c *Counts) Add(st state.Task, n int) {
	switch {
	case st == state.TaskWaiting:
		c.Held += n
	case st == state.TaskRunning:
		c.Running += n
	case st == state.TaskSucceeded || st == state.TaskSkipped:
		c.Succeeded += n
	case st == state.TaskCancelled:
		c.Cancelled += n
	case st.Final():
		c.Failed += n
	default: // pending, retrying
		c.Queued += n
	}
}

// Total counts every member.
func (c Counts) Total() int {
	return c.Held + c.Queued + c.Running + c.Succeeded + c.Failed + c.Cancelled
}

// Unsettled counts the members not settled.
func (c Counts) Unsettled() int { return c.Held + c.Queued + c.Running }

func (c *Counts) add(o Counts) {
	c.Held += o.Held
	c.Queued += o.Queued
	c.Running += o.Running
	c.Succeeded += o.Succeeded
	c.Failed += o.Failed
	c.Cancelled += o.Cancelled
}

// Baseline is where the rollout stood at its last resume: the bounds count
// what happened since (an operator who resumes has seen the failures
// before).
type Baseline struct {
	// Failed counts the members failed then.
	Failed int
	// Targeted counts the members of the waves started then.
	Targeted int
}

// Snapshot is a rollout as its lock holder reads it.
type Snapshot struct {
	// Waves are the members of each wave, by state.
	Waves []Counts
	// Started counts the waves started; the current wave is Started-1.
	Started int
	// Status is where the rollout stands.
	Status Status
	// SettledAt is when the current wave was first seen settled; zero if
	// it was not.
	SettledAt time.Time
	// Pause is the wait between a wave settling and the next starting.
	Pause time.Duration
	// AbortIf are the rollout's bounds.
	AbortIf AbortIf
	// Since is where the rollout stood at its last resume.
	Since Baseline
	// OpenCircuits counts the fleet's devices whose circuit is open.
	OpenCircuits int
	// Offline counts the fleet's devices that went offline after the
	// rollout started.
	Offline int
	// RequireDevices makes an empty fleet a failure.
	RequireDevices bool
	// Now is the time of the snapshot.
	Now time.Time
}

// Action is what a rollout does next.
type Action int

// Actions.
const (
	// Wait: nothing now; look again when members settle, or at Next.
	Wait Action = iota
	// Hold: paused or aborted, or done: nothing until a resume.
	Hold
	// StartWave: send the members of Decision.Wave.
	StartWave
	// Abort: a bound is crossed (Decision.Reason); cancel what was not
	// sent, let what is in flight finish.
	Abort
	// Finish: every wave has started and settled; the fleet task ends,
	// succeeded when Decision.Succeeded.
	Finish
)

func (a Action) String() string {
	return [...]string{"wait", "hold", "start_wave", "abort", "finish"}[a]
}

// Decision is what a rollout does next, and why.
type Decision struct {
	// Action is what to do.
	Action Action
	// Wave is the wave to start (StartWave).
	Wave int
	// Reason explains an Abort (the bound crossed) or a Finish (counts).
	Reason string
	// Succeeded says a Finish is a success: every member succeeded.
	Succeeded bool
	// Settled says the current wave settled in this snapshot, for the first
	// time: the caller records Now as its SettledAt.
	Settled bool
	// Next is when to look again at the latest (Wait: the end of a pause);
	// zero when only members settling change anything.
	Next time.Time
}

// Decide says what a rollout does next. It is pure: the same snapshot gives
// the same decision.
func Decide(s Snapshot) Decision {
	switch s.Status {
	case Paused, Aborted, Done:
		return Decision{Action: Hold}
	}
	if len(s.Waves) == 0 {
		if s.RequireDevices {
			return Decision{Action: Finish, Reason: "no device matched the fleet's selector (rollout.require_devices)"}
		}
		return Decision{Action: Finish, Succeeded: true, Reason: "no device matched the fleet's selector"}
	}
	if s.Started == 0 {
		return Decision{Action: StartWave, Wave: 0}
	}
	var sum Counts
	targeted := 0
	for i, w := range s.Waves {
		sum.add(w)
		if i < s.Started {
			targeted += w.Total()
		}
	}
	unsent := sum.Held + sum.Queued
	if reason := crossed(s, sum, targeted); reason != "" && unsent > 0 {
		return Decision{Action: Abort, Reason: reason}
	}
	cur := s.Started - 1
	if s.Waves[cur].Unsettled() > 0 {
		return Decision{Action: Wait}
	}
	if s.Started == len(s.Waves) {
		return Decision{Action: Finish, Succeeded: sum.Failed == 0 && sum.Cancelled == 0, Reason: summary(sum)}
	}
	d := Decision{Action: Wait}
	settled := s.SettledAt
	if settled.IsZero() {
		d.Settled, settled = true, s.Now
	}
	if due := settled.Add(s.Pause); s.Now.Before(due) {
		d.Next = due
		return d
	}
	d.Action, d.Wave = StartWave, s.Started
	return d
}

// crossed names the first bound the snapshot crosses, or "".
func crossed(s Snapshot, sum Counts, targeted int) string {
	b := s.AbortIf
	if b.FailedRatio != nil {
		failed, of := sum.Failed-s.Since.Failed, targeted-s.Since.Targeted
		if of > 0 && failed > 0 && float64(failed)/float64(of) > *b.FailedRatio {
			return fmt.Sprintf("failed ratio %.2f (%d of %d devices sent to%s) is above abort_if.failed_ratio %g",
				float64(failed)/float64(of), failed, of, sinceResume(s.Since), *b.FailedRatio)
		}
	}
	if b.OpenCircuits != nil && s.OpenCircuits >= *b.OpenCircuits {
		return fmt.Sprintf("%d of the fleet's devices have their circuit open (abort_if.open_circuits %d)", s.OpenCircuits, *b.OpenCircuits)
	}
	if b.Offline != nil && s.Offline >= *b.Offline {
		return fmt.Sprintf("%d of the fleet's devices went offline during the rollout (abort_if.offline %d)", s.Offline, *b.Offline)
	}
	return ""
}

func sinceResume(b Baseline) string {
	if b.Targeted > 0 {
		return " since the last resume"
	}
	return ""
}

// summary counts a fleet's settled members: "10 devices: 9 succeeded, 1
// failed".
func summary(c Counts) string {
	parts := []string{fmt.Sprintf("%d succeeded", c.Succeeded)}
	if c.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", c.Failed))
	}
	if c.Cancelled > 0 {
		parts = append(parts, fmt.Sprintf("%d cancelled", c.Cancelled))
	}
	noun := "devices"
	if c.Total() == 1 {
		noun = "device"
	}
	return fmt.Sprintf("%d %s: %s", c.Total(), noun, strings.Join(parts, ", "))
}
