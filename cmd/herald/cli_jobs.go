package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/client"
)

func jobsCommand() *cliCommand {
	return &cliCommand{
		name:    "jobs",
		summary: "Register and manage jobs.",
		sub: []*cliCommand{
			jobsApplyCommand(),
			{name: "list", summary: "List jobs, newest first.", setup: jobsList},
			{name: "get", args: "JOB", summary: "Show a job: its schedule, next fire times and tasks.", about: jobRefText, setup: jobsGet},
			{name: "delete", args: "JOB", summary: "Delete a job (its runs stay readable).", about: jobRefText, setup: jobsAction("delete")},
			{name: "pause", args: "JOB", summary: "Pause a job: its ticks stop firing until resumed.", about: jobRefText, setup: jobsAction("pause")},
			{name: "resume", args: "JOB", summary: "Resume a paused job (missed ticks follow its misfire policy).", about: jobRefText, setup: jobsAction("resume")},
			{name: "trigger", args: "JOB", summary: "Run a job now, outside its schedule.", about: jobRefText + "\n\n" + triggerText, setup: jobsTrigger},
		},
	}
}

const jobRefText = `JOB is a job's id, or its name when exactly one job has that name.`

const triggerText = `--input sends a JSON value as the run's input (tasks refer to it as
{{ input.<path> }}): it needs a server with run input, and is refused before
anything is sent by a server whose API document does not describe it.`

// resolveJob finds a job by id, or by its exact name.
func resolveJob(ctx context.Context, c *client.Client, ref string) (*client.Job, error) {
	if _, err := uuid.Parse(ref); err == nil {
		return c.GetJob(ctx, ref)
	}
	jobs, err := jobsNamed(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	switch len(jobs) {
	case 0:
		return nil, &exitError{code: exitNotFound, err: fmt.Errorf("no job is named %q", ref)}
	case 1:
		return &jobs[0], nil
	}
	return nil, &exitError{code: exitFailed, err: fmt.Errorf("%d jobs are named %q (%s): name one by its id", len(jobs), ref, jobIDs(jobs))}
}

// jobsNamed lists the jobs whose name is exactly name (the server's filter
// finds names containing it, in any case).
func jobsNamed(ctx context.Context, c *client.Client, name string) ([]client.Job, error) {
	var out []client.Job
	for j, err := range c.Jobs(ctx, &client.ListJobsParams{Name: &name, Limit: new(500)}) {
		if err != nil {
			return nil, err
		}
		if j.Name == name {
			out = append(out, j)
		}
	}
	return out, nil
}

func jobIDs(jobs []client.Job) string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.Id.String()
	}
	return strings.Join(ids, ", ")
}

func jobsList(cl *cli, s *settings) func(context.Context, []string) error {
	var (
		name, labels, paused string
		limit                int
	)
	s.String(&name, "name", "", "", "Only jobs whose name contains this, ignoring case.")
	s.String(&labels, "label", "", "", "Only jobs carrying these labels: k=v[,k=v...].")
	s.String(&paused, "paused", "", "", "true: only paused jobs; false: only active ones.")
	s.Int(&limit, "limit", "", 100, "Show at most this many (0: all).")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		params := &client.ListJobsParams{Limit: new(min(max(limit, 1), 500))}
		if name != "" {
			params.Name = &name
		}
		if labels != "" {
			params.Label = strings.Split(labels, ",")
		}
		if paused != "" {
			b, err := strconv.ParseBool(paused)
			if err != nil {
				return usageError("--paused %q: want true or false", paused)
			}
			params.Paused = &b
		}
		c, err := cl.client()
		if err != nil {
			return err
		}
		jobs, err := collect(c.Jobs(ctx, params), limit)
		if err != nil {
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(jobs)
		}
		t := newTable(cl.stdout, "ID", "NAME", "SCHEDULE", "NEXT FIRE", "PAUSED", "TASKS")
		for _, j := range jobs {
			t.row(j.Id.String(), j.Name, scheduleText(j.Schedule), when(j.NextFireAt), strconv.FormatBool(j.Paused), strconv.Itoa(len(j.Tasks)))
		}
		return t.flush()
	}
}

// scheduleText is a schedule for people.
func scheduleText(s *client.Schedule) string {
	switch {
	case s == nil:
		return "(triggered only)"
	case s.Cron != nil && deref(s.Timezone) == "device":
		return "cron " + *s.Cron + " in each device's zone"
	case s.Cron != nil:
		return "cron " + *s.Cron + " " + cmp.Or(deref(s.Timezone), "UTC")
	case s.Every != nil:
		return "every " + *s.Every
	case s.At != nil:
		return "at " + s.At.Format("2006-01-02T15:04:05Z07:00")
	case s.Delay != nil:
		return "delay " + *s.Delay
	}
	return "-"
}

func jobsGet(cl *cli, s *settings) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		c, j, err := cl.clientAndJob(ctx, args)
		if err != nil {
			return err
		}
		if j, err = c.GetJob(ctx, j.Id.String()); err != nil { // all of it: a list leaves out device_zones
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(j)
		}
		return cl.printJob(j)
	}
}

// printJob shows a job for people.
func (cl *cli) printJob(j *client.Job) error {
	t := newTable(cl.stdout, "ID", j.Id.String())
	t.row("NAME", j.Name)
	t.row("SCHEDULE", scheduleText(j.Schedule))
	t.row("PAUSED", strconv.FormatBool(j.Paused))
	t.row("MISFIRE", j.Misfire)
	t.row("OVERLAP", j.Overlap)
	t.row("LABELS", labelsText(j.Labels))
	for i, ft := range j.NextFireTimes {
		label := ""
		if i == 0 {
			label = "NEXT FIRE"
		}
		t.row(label, when(&ft))
	}
	if len(j.NextFireTimes) == 0 {
		t.row("NEXT FIRE", "-")
	}
	for i, z := range j.DeviceZones {
		label := ""
		if i == 0 {
			label = "DEVICE ZONES"
		}
		t.row(label, fmt.Sprintf("%s: %d devices, next %s", z.Timezone, z.Devices, when(z.NextFireAt)))
	}
	t.row("MISSED TICKS", strconv.Itoa(j.MissedTicks))
	t.row("SKIPPED TICKS", strconv.Itoa(j.SkippedTicks))
	t.row("CREATED", when(&j.CreatedAt))
	t.row("UPDATED", when(&j.UpdatedAt))
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(cl.stdout)
	tasks := newTable(cl.stdout, "TASK", "DEPENDS ON", "METHOD", "TARGET", "ATTEMPTS")
	for _, task := range j.Tasks {
		tasks.row(deref(task.Id), orDash(strings.Join(task.DependsOn, ",")), string(deref(task.Request.Method)), taskTarget(task), strconv.Itoa(deref(deref(task.Retry).MaxAttempts)))
	}
	return tasks.flush()
}

// taskTarget is where a task sends its request.
func taskTarget(t client.Task) string {
	switch {
	case t.Target == nil:
		return deref(t.Request.Url)
	case t.Target.Device != nil:
		return "device " + *t.Target.Device + deref(t.Target.Path)
	case t.Target.Pool != nil:
		return "pool " + labelsText(t.Target.Pool.Selector) + deref(t.Target.Path)
	case t.Target.Fleet != nil:
		return "fleet " + labelsText(t.Target.Fleet.Selector) + deref(t.Target.Path)
	}
	return "-"
}

// jobsAction is delete, pause or resume.
func jobsAction(action string) func(cl *cli, s *settings) func(context.Context, []string) error {
	return func(cl *cli, s *settings) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			c, j, err := cl.clientAndJob(ctx, args)
			if err != nil {
				return err
			}
			id := j.Id.String()
			switch action {
			case "delete":
				err = c.DeleteJob(ctx, id)
			case "pause":
				j, err = c.PauseJob(ctx, id)
			case "resume":
				j, err = c.ResumeJob(ctx, id)
			}
			if err != nil {
				return cl.fail(err)
			}
			if cl.json() {
				if action == "delete" {
					return cl.printJSON(map[string]string{"id": id, "deleted": "true"})
				}
				return cl.printJSON(j)
			}
			past := map[string]string{"delete": "deleted", "pause": "paused", "resume": "resumed"}[action]
			fmt.Fprintf(cl.stdout, "job %q %s (%s)\n", j.Name, past, id)
			if action == "resume" && j.NextFireAt != nil {
				fmt.Fprintf(cl.stdout, "next fire: %s\n", when(j.NextFireAt))
			}
			return nil
		}
	}
}

func jobsTrigger(cl *cli, s *settings) func(context.Context, []string) error {
	var (
		input string
		watch bool
	)
	s.String(&input, "input", "", "", "A JSON value, the run's input (needs a server with run input).")
	s.Bool(&watch, "watch", "", false, "Follow the run until it ends, as runs watch does.")
	return func(ctx context.Context, args []string) error {
		var opts []client.CallOption
		if s.given("input") {
			if !json.Valid([]byte(input)) {
				return usageError("--input: not a JSON value: %s", truncate(input, 60))
			}
			opts = append(opts, client.WithInput(json.RawMessage(input)))
		}
		if len(opts) > 0 {
			c, err := cl.client()
			if err != nil {
				return err
			}
			if err := requireRunInput(ctx, c); err != nil {
				return cl.fail(err)
			}
		}
		c, j, err := cl.clientAndJob(ctx, args)
		if err != nil {
			return err
		}
		run, err := c.TriggerRun(ctx, j.Id.String(), opts...)
		if err != nil {
			return cl.fail(err)
		}
		if watch {
			return cl.watchRun(ctx, c, run.Id.String(), 0)
		}
		if cl.json() {
			return cl.printJSON(run)
		}
		fmt.Fprintf(cl.stdout, "run %s started (job %q); follow it with: herald runs watch %s\n", run.Id, j.Name, run.Id)
		return nil
	}
}
