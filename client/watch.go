package client

import (
	"context"
	"iter"
	"slices"
	"time"
)

// DefaultWatchInterval is how often WatchRun reads the run.
const DefaultWatchInterval = 500 * time.Millisecond

// Ended reports whether a run in state s is over: every state but running
// and queued (a state added later counts as an end).
func (s RunState) Ended() bool { return s != RunStateRunning && s != RunStateQueued }

// Ended reports whether a task in state s is over: succeeded, failed,
// upstream_failed, cancelled, expired (and states added later), not waiting,
// pending, running or retrying.
func (s TaskState) Ended() bool {
	switch s {
	case TaskStateWaiting, TaskStatePending, TaskStateRunning, TaskStateRetrying:
		return false
	}
	return true
}

// WatchRun follows run id until it ends: it reads it every interval (0:
// DefaultWatchInterval) and yields it first, then whenever its state, a
// task's state or a task's attempts changed, last once it has ended. A
// failed read ends the watch with the error (a read the server could not
// answer, 503, is retried first as usual).
func (c *Client) WatchRun(ctx context.Context, id string, interval time.Duration) iter.Seq2[Run, error] {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	return func(yield func(Run, error) bool) {
		var last *Run
		for {
			run, err := c.GetRun(ctx, id)
			if err != nil {
				yield(Run{}, err)
				return
			}
			if last == nil || changed(last, run) {
				if !yield(*run, nil) {
					return
				}
			}
			if run.State.Ended() {
				return
			}
			last = run
			if err := wait(ctx, interval); err != nil {
				yield(Run{}, err)
				return
			}
		}
	}
}

// changed reports whether b differs from a in its state or its tasks'
// states or attempts.
func changed(a, b *Run) bool {
	if a.State != b.State || len(a.Tasks) != len(b.Tasks) {
		return true
	}
	return slices.ContainsFunc(a.Tasks, func(t TaskRun) bool {
		i := slices.IndexFunc(b.Tasks, func(u TaskRun) bool { return u.TaskId == t.TaskId })
		return i < 0 || b.Tasks[i].State != t.State || len(b.Tasks[i].Attempts) != len(t.Attempts)
	})
}
