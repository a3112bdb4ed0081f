// Package views is herald's pages: templ components, the view models they
// show, the layout of a job's topology, and the static assets (htmx and its
// SSE extension, vendored from npm), all embedded in the binary.
package views

import (
	"embed"
	"fmt"
	"github.com/herald-sched/herald/internal/state"
	"time"
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
}

// JobRow is a job in the job list.
type JobRow struct {
	ID        string
	Name      string
	Schedule  string
	NextFire  *time.Time
	Paused    bool
	LatestRun *RunSummary
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
	SilentFor     float64 // seconds, for a live replica
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

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") }

func whenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return when(*t)
}
