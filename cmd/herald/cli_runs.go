package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-sched/herald/client"
)

func runsCommand() *cliCommand {
	return &cliCommand{
		name:    "runs",
		summary: "Follow and control runs.",
		sub: []*cliCommand{
			{name: "list", summary: "List runs, newest first.", setup: runsList},
			{name: "get", args: "RUN", summary: "Show a run: every task, its state and attempts.", setup: runsGet},
			{name: "watch", args: "RUN", summary: "Follow a run until it ends, a line per task state change.", about: watchText, setup: runsWatch},
			{name: "cancel", args: "RUN", summary: "Cancel a running or queued run.", setup: runsAction("cancel")},
			{name: "retry", args: "RUN", summary: "Re-run the failed tasks of a failed or cancelled run.", setup: runsAction("retry")},
			{name: "pause", args: "RUN", summary: "Hold the running rollouts of a run (fleet tasks).", setup: runsAction("pause")},
			{name: "resume", args: "RUN", summary: "Continue the paused or aborted rollouts of a run.", setup: runsAction("resume")},
		},
	}
}

const watchText = `Exits 0 when the run succeeded and 1 when it ended otherwise (failed,
cancelled, skipped). With -o json, each change is a JSON object on a line of
its own.`

func runsList(cl *cli, s *settings) func(context.Context, []string) error {
	var (
		job, state string
		limit      int
	)
	s.String(&job, "job", "", "", "Only the runs of this job (its id, or its name when only one job has it).")
	s.String(&state, "state", "", "", "Only runs in this state: running, queued, skipped, succeeded, failed, cancelled.")
	s.Int(&limit, "limit", "", 50, "Show at most this many (0: all).")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		params := &client.ListRunsParams{Limit: new(min(max(limit, 1), 500))}
		if state != "" {
			params.State = new(client.RunState(state))
		}
		c, err := cl.client()
		if err != nil {
			return err
		}
		if job != "" {
			j, err := resolveJob(ctx, c, job)
			if err != nil {
				return cl.fail(err)
			}
			params.JobId = &j.Id
		}
		runs, err := collect(c.Runs(ctx, params), limit)
		if err != nil {
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(runs)
		}
		t := newTable(cl.stdout, "ID", "JOB", "STATE", "TRIGGER", "SCHEDULED FOR", "DURATION")
		for _, r := range runs {
			t.row(r.Id.String(), r.JobId.String(), string(r.State), string(r.Trigger), when(&r.ScheduledFor), runDuration(r))
		}
		return t.flush()
	}
}

// runDuration is how long a run took, or has been going.
func runDuration(r client.Run) string {
	end := time.Now()
	if r.FinishedAt != nil {
		end = *r.FinishedAt
	}
	start := r.ScheduledFor
	if r.CreatedAt.After(start) {
		start = r.CreatedAt
	}
	if end.Before(start) {
		return "-"
	}
	return end.Sub(start).Round(time.Millisecond).String()
}

func runsGet(cl *cli, s *settings) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		c, id, err := cl.clientAndRun(args)
		if err != nil {
			return err
		}
		r, err := c.GetRun(ctx, id)
		if err != nil {
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(r)
		}
		return cl.printRun(r)
	}
}

// printRun shows a run and its tasks for people.
func (cl *cli) printRun(r *client.Run) error {
	t := newTable(cl.stdout, "ID", r.Id.String())
	t.row("JOB", r.JobId.String())
	t.row("STATE", string(r.State))
	t.row("TRIGGER", string(r.Trigger))
	t.row("SCHEDULED FOR", when(&r.ScheduledFor))
	if len(r.DeviceZones) > 0 {
		t.row("LOCAL TIME IN", strings.Join(r.DeviceZones, ", "))
	}
	t.row("FINISHED", when(r.FinishedAt))
	t.row("DURATION", runDuration(*r))
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(cl.stdout)
	tasks := newTable(cl.stdout, "TASK", "STATE", "ATTEMPTS", "LAST ATTEMPT", "ERROR")
	for _, task := range r.Tasks {
		last := "-"
		if n := len(task.Attempts); n > 0 {
			last = attemptText(task.Attempts[n-1])
		}
		tasks.row(task.TaskId, string(task.State), strconv.Itoa(len(task.Attempts)), last, truncate(orDash(deref(task.LastError)), 80))
	}
	return tasks.flush()
}

// attemptText is an attempt's outcome in a few words: "200 in 12ms".
func attemptText(a client.Attempt) string {
	status := "no response"
	if a.StatusCode != nil {
		status = strconv.Itoa(*a.StatusCode)
	}
	return fmt.Sprintf("#%d %s %s in %s", a.Attempt, a.Outcome, status, millis(a.DurationMs))
}

// millis is a duration in milliseconds as people read it: 0.3ms, 12ms, 1.2s.
func millis(ms float64) string {
	switch {
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
	}
	return time.Duration(ms * float64(time.Millisecond)).Round(100 * time.Millisecond).String()
}

// runsAction is cancel, retry, pause or resume.
func runsAction(action string) func(cl *cli, s *settings) func(context.Context, []string) error {
	return func(cl *cli, s *settings) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			c, id, err := cl.clientAndRun(args)
			if err != nil {
				return err
			}
			var r *client.Run
			switch action {
			case "cancel":
				r, err = c.CancelRun(ctx, id)
			case "pause":
				r, err = c.PauseRollout(ctx, id)
			case "resume":
				r, err = c.ResumeRollout(ctx, id)
			default:
				r, err = c.RetryRun(ctx, id)
			}
			if err != nil {
				return cl.fail(err)
			}
			if cl.json() {
				return cl.printJSON(r)
			}
			fmt.Fprintf(cl.stdout, "run %s %s\n", r.Id, r.State)
			return nil
		}
	}
}
