package main

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-sched/herald/client"
)

func runsWatch(cl *cli, s *settings) func(context.Context, []string) error {
	var interval time.Duration
	s.Duration(&interval, "interval", "", client.DefaultWatchInterval, "How often to read the run.")
	return func(ctx context.Context, args []string) error {
		c, id, err := cl.clientAndRun(args)
		if err != nil {
			return err
		}
		return cl.watchRun(ctx, c, id, interval)
	}
}

// watchEvent is one line of runs watch -o json: a task's state changed
// (Task set), or the run's.
type watchEvent struct {
	Time    time.Time       `json:"time"`
	Run     string          `json:"run"`
	Task    string          `json:"task,omitempty"`
	State   string          `json:"state"`
	Attempt *client.Attempt `json:"attempt,omitempty"`
	// Duration, on the run's last line, is how long it took.
	Duration string `json:"duration,omitempty"`
}

// watchRun follows run id until it ends, printing a line per state change
// (its own and its tasks'). It returns nil when the run succeeded and an
// exitError 1 when it ended otherwise.
func (cl *cli) watchRun(ctx context.Context, c *client.Client, id string, interval time.Duration) error {
	var (
		runState client.RunState
		tasks    = map[string]client.TaskState{}
		last     client.Run
	)
	emit := func(e watchEvent) error {
		if cl.json() {
			return cl.printJSONLine(e)
		}
		line := e.Time.Local().Format("15:04:05.000") + "  "
		if e.Task == "" {
			line += "run " + e.State
			if e.Duration != "" {
				line += " in " + e.Duration
			}
		} else {
			line += fmt.Sprintf("%-20s %s", e.Task, e.State)
			if e.Attempt != nil {
				line += "  " + attemptText(*e.Attempt)
				if e.Attempt.Error != nil {
					line += ": " + truncate(*e.Attempt.Error, 80)
				}
			}
		}
		_, err := fmt.Fprintln(cl.stdout, line)
		return err
	}
	for r, err := range c.WatchRun(ctx, id, interval) {
		if err != nil {
			return cl.fail(err)
		}
		now := time.Now()
		if r.State != runState && !r.State.Ended() {
			if err := emit(watchEvent{Time: now, Run: id, State: string(r.State)}); err != nil {
				return err
			}
		}
		runState = r.State
		for _, t := range r.Tasks {
			if tasks[t.TaskId] == t.State {
				continue
			}
			tasks[t.TaskId] = t.State
			e := watchEvent{Time: now, Run: id, Task: t.TaskId, State: string(t.State)}
			if n := len(t.Attempts); n > 0 && t.State != client.TaskStateRunning && t.State != client.TaskStatePending {
				e.Attempt = &t.Attempts[n-1]
			}
			if err := emit(e); err != nil {
				return err
			}
		}
		last = r
	}
	if err := emit(watchEvent{Time: time.Now(), Run: id, State: string(last.State), Duration: runDuration(last)}); err != nil {
		return err
	}
	if last.State != client.RunStateSucceeded {
		return &exitError{code: exitFailed}
	}
	return nil
}
