// Package views is herald's pages: templ components, the view models they
// show, the layout of a job's topology, and the static assets (htmx and its
// SSE extension, vendored from npm), all embedded in the binary.
package views

import (
	"embed"
	"fmt"
	"slices"
	"time"

	"github.com/herald-sched/herald/internal/state"
)

// Static holds /static/: htmx.min.js (htmx 2.0.11) and htmx-ext-sse.js
// (htmx-ext-sse 2.2.4), both under the 0BSD licence.
//
//go:embed static
var Static embed.FS

// RunSummary is a run in a list.
type RunSummary struct {
	ID           string
	State        string
	Trigger      string
	ScheduledFor time.Time
	CreatedAt    time.Time
	FinishedAt   *time.Time
	// DeviceZones are the zones whose local tick the run is (a
	// device-local schedule's), none otherwise.
	DeviceZones []string
}

// JobRow is a job in the job list.
type JobRow struct {
	ID        string
	Name      string
	Schedule  string
	NextFire  *time.Time
	Paused    bool
	LatestRun *RunSummary
	// Clock writes the row's times (the job's schedule's zone, or the
	// viewer's).
	Clock Clock
}

// JobFilter is the job list's filter form, as submitted.
type JobFilter struct {
	Name   string
	Label  string // key=value
	Paused string // "", "true" or "false"
}

// JobPage is a job's page.
type JobPage struct {
	ID            string
	Name          string
	Schedule      string
	Misfire       string
	Overlap       string
	Paused        bool
	NextFireTimes []time.Time
	MissedTicks   int64
	SkippedTicks  int64
	// Graph is the topology, nodes coloured by the latest run's task states.
	Graph Graph
	Runs  []RunSummary
	// Clock writes the page's times.
	Clock Clock
	// Placements says, for each task with a target (a device or a pool),
	// where it would go now.
	Placements []PlacementRow
	// DeviceZones, for a device-local schedule, are the zones its fleet's
	// devices are in, each with its next tick there.
	DeviceZones []DeviceZoneRow
}

// DeviceZoneRow is a zone a device-local job ticks in.
type DeviceZoneRow struct {
	Zone     string
	Devices  int
	NextFire *time.Time
}

// PlacementRow is where a task with a target would be delivered if it ran
// now: the device the placement chain chooses from the fleet as it is, and
// the decision explained.
type PlacementRow struct {
	TaskID string
	// Target describes the target: "pool site=17 (load_aware)", "device gw-1".
	Target string
	// DeviceID and DeviceName are the device chosen; empty when none is
	// eligible.
	DeviceID, DeviceName string
	// Explain is the decision in one line (placement.Decision.Explain), or
	// why it could not be made.
	Explain string
}

// RunPage is a run's page; Body is what its live updates replace.
type RunPage struct {
	JobID   string
	JobName string
	Body    RunBody
}

// MaxShownTasks is how many of a run's tasks its page lists; the counts by
// state cover all of them, and the API lists every one.
const MaxShownTasks = 200

// RunBody is the part of a run's page that changes while it runs.
type RunBody struct {
	Run RunSummary
	// Clock writes the run's times (from Now).
	Clock Clock
	// Now is when the body was read: the end of what has not ended.
	Now   time.Time
	Graph Graph
	// Tasks are the first MaxShownTasks tasks, in graph order (by id when
	// the run has too many tasks to draw).
	Tasks    []TaskRow
	Timeline Timeline
	// TaskCount is the run's task count; States counts them by state, in
	// StateOrder.
	TaskCount int
	States    []StateCount
	// Rollouts are the rollouts of the run's fleet tasks.
	Rollouts []RolloutView
}

// StateCount is how many tasks are in a state.
type StateCount struct {
	State string
	Count int
}

// Elapsed is the run's duration: "took 3 min 4 s", or "running for 12.0 s".
func (b RunBody) Elapsed() string {
	if b.Run.FinishedAt != nil {
		return "took " + Duration(b.Run.FinishedAt.Sub(b.Run.CreatedAt))
	}
	return "running for " + Duration(b.Now.Sub(b.Run.CreatedAt))
}

// StateOrder is the order task states are counted in: internal/state's.
var StateOrder = func() []string {
	var out []string
	for _, s := range state.Tasks() {
		out = append(out, string(s))
	}
	return out
}()

// Ended says the run will not change any more (the live view stops).
func (b RunBody) Ended() bool { return state.Run(b.Run.State).Final() }

// CanCancel says the run can be cancelled: it is running or queued.
func (b RunBody) CanCancel() bool {
	return b.Run.State == string(state.RunRunning) || b.Run.State == string(state.RunQueued)
}

// retryable are the run states whose failed tasks can be run again
// (timed_out: a run past its run_timeout).
var retryable = []string{string(state.RunFailed), string(state.RunCancelled), "timed_out"}

// CanRetry says the run's failed tasks can be run again: it failed, was
// cancelled or timed out.
func (b RunBody) CanRetry() bool { return slices.Contains(retryable, b.Run.State) }

// TaskRow is a task of a run, with its attempts.
type TaskRow struct {
	TaskID    string
	State     string
	LastError string
	WebhookID string
	Attempts  []AttemptRow
	// ReadyAt is when the task could first be sent: when the last of its
	// dependencies finished, or the run began (nil when not known).
	ReadyAt *time.Time
	// StartedAt is when its first attempt began.
	StartedAt *time.Time
	// CurrentAttempt is the number of its latest attempt, recorded or on
	// its way.
	CurrentAttempt int32
}

// AttemptRow is one HTTP request of a task.
type AttemptRow struct {
	Attempt    int32
	StartedAt  time.Time
	DurationMs float64
	Status     string // the HTTP status, "" when no response came
	Outcome    string // succeeded, retrying, failed or lost
	Error      string
	Response   string
	Truncated  bool
	NextRetry  *time.Time
}

// ReplicaRow is one herald process on the replicas page.
type ReplicaRow struct {
	ID            string
	Role          string
	Host          string
	Version       string
	State         string // alive, silent, dead or stopped
	StartedAt     time.Time
	LastHeartbeat *time.Time
	Timeout       string
	Working       int32
	InFlight      int32
	ClockOffsetMs *float64
	ReclaimedBy   string
	Reclaimed     int32
}

func offset(ms *float64) string {
	if ms == nil {
		return "—"
	}
	return fmt.Sprintf("%+.1f ms", *ms)
}

// ErrorPage is a failed action or a missing page.
type ErrorPage struct {
	Status int
	Title  string
	Detail string
	Back   string
}
