// Package state defines, once, the states of runs and task runs and the
// outcomes of attempts, as River's rivertype.JobState does for jobs. The
// store's columns carry these types (sqlc overrides), PostgreSQL's CHECK
// constraints list the same values (a test compares them), and the API,
// the pages and the metrics spell them from here.
package state

// Run is the state of a run.
type Run string

// Run states.
const (
	// RunRunning: its tasks are being delivered (or, for a tick prepared
	// ahead of its time, about to be).
	RunRunning Run = "running"
	// RunQueued waits for the job's previous run to end (overlap queue).
	RunQueued Run = "queued"
	// RunSkipped is a tick skipped for a run in progress (overlap skip).
	RunSkipped Run = "skipped"
	// RunSucceeded: every task succeeded.
	RunSucceeded Run = "succeeded"
	// RunFailed: a task failed for good.
	RunFailed Run = "failed"
	// RunCancelled was cancelled through the API, or by a pause, update or
	// delete of its job before its time.
	RunCancelled Run = "cancelled"
	// RunTimedOut was not finished by its deadline (the job's run_timeout):
	// what it had not sent was cancelled, requests in flight completed with
	// their outcomes recorded but ignored.
	RunTimedOut Run = "timed_out"
)

// Runs lists every run state.
func Runs() []Run {
	return []Run{RunRunning, RunQueued, RunSkipped, RunSucceeded, RunFailed, RunCancelled, RunTimedOut}
}

// Final reports whether a run in state r has ended.
func (r Run) Final() bool {
	return r == RunSkipped || r == RunSucceeded || r == RunFailed || r == RunCancelled || r == RunTimedOut
}

// Task is the state of a task run.
type Task string

// Task run states, in the order a task run moves through them.
const (
	// TaskWaiting waits for its upstream tasks.
	TaskWaiting Task = "waiting"
	// TaskPending is enqueued for delivery.
	TaskPending Task = "pending"
	// TaskRunning has an attempt begun (or waits for a host slot).
	TaskRunning Task = "running"
	// TaskRetrying waits to be attempted again.
	TaskRetrying Task = "retrying"
	// TaskSucceeded got a 2xx.
	TaskSucceeded Task = "succeeded"
	// TaskFailed failed for good.
	TaskFailed Task = "failed"
	// TaskUpstreamFailed will not run: a task it depends on failed.
	TaskUpstreamFailed Task = "upstream_failed"
	// TaskCancelled was cancelled with its run.
	TaskCancelled Task = "cancelled"
	// TaskExpired waited for a device (its own, or any of its pool) to be
	// online past its valid_for; a failure for the run and its DAG.
	TaskExpired Task = "expired"
	// TaskSkipped did not run, and made no request: its condition (when)
	// was false, or its run_if any_failed found no failed parent. Its
	// children treat it as done without failure.
	TaskSkipped Task = "skipped"
)

// Tasks lists every task run state, in the order a task run moves through
// them (the pages count them in this order).
func Tasks() []Task {
	return []Task{TaskWaiting, TaskPending, TaskRunning, TaskRetrying, TaskSucceeded, TaskFailed, TaskUpstreamFailed, TaskCancelled, TaskExpired, TaskSkipped}
}

// Final reports whether a task run in state t has ended.
func (t Task) Final() bool {
	return t == TaskSucceeded || t == TaskFailed || t == TaskUpstreamFailed || t == TaskCancelled || t == TaskExpired || t == TaskSkipped
}

// Failure reports whether a task run that ended in t counts as a failure
// for its children's run_if and for its run: failed, upstream_failed,
// cancelled or expired (not skipped).
func (t Task) Failure() bool {
	return t == TaskFailed || t == TaskUpstreamFailed || t == TaskCancelled || t == TaskExpired
}

// Outcome is the outcome of one attempt.
type Outcome string

// Attempt outcomes.
const (
	// OutcomeSucceeded: a 2xx.
	OutcomeSucceeded Outcome = "succeeded"
	// OutcomeRetrying: failed, to be attempted again.
	OutcomeRetrying Outcome = "retrying"
	// OutcomeFailed: failed for good.
	OutcomeFailed Outcome = "failed"
	// OutcomeLost: the replica making it died; it may or may not have been
	// sent, and does not count against max_attempts.
	OutcomeLost Outcome = "lost"
	// OutcomeExpired: no request was made, as no device became eligible
	// within the task's valid_for; the task ends expired.
	OutcomeExpired Outcome = "expired"
)

// Outcomes lists every attempt outcome.
func Outcomes() []Outcome {
	return []Outcome{OutcomeSucceeded, OutcomeRetrying, OutcomeFailed, OutcomeLost, OutcomeExpired}
}
