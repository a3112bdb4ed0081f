package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/herald-sched/herald/client"
)

func jobsApplyCommand() *cliCommand {
	return &cliCommand{
		name:    "apply",
		args:    "-f FILE|-",
		summary: "Create or replace jobs by name, from a YAML or JSON file.",
		about:   applyText,
		setup:   jobsApply,
	}
}

const applyText = `FILE (- for standard input) holds a job as POST /v1/jobs takes it, a list
of jobs, or several YAML documents (---), each a job or a list. Each job is
found by its name: a job that does not exist is created, one whose
definition differs is replaced (PUT: its schedule is re-armed from now), one
whose definition is the same is left alone and said unchanged. Definitions
are compared as the server keeps them, defaults filled in, so a file that
leaves a default out matches the job it created. A job paused by hand stays
paused unless the file sets paused. Names must be unique, in the file and on
the server.

Before anything is sent, every job of the file is checked as far as can be
done without the server: the API document's schema (unknown fields, types,
allowed values; the file, line and field of each problem) and the server's
own rules (durations, cron expressions and time zones, the task graph,
references between tasks). One problem anywhere and nothing is applied.
Left to the server: whether target URLs are allowed and devices exist. When
the server refuses a job, the jobs before it stay applied (they are listed)
and the ones after it are not sent.`

// applyAction is what apply does to a job.
type applyAction string

const (
	actionCreate    applyAction = "created"
	actionReplace   applyAction = "replaced"
	actionUnchanged applyAction = "unchanged"
)

// applyPlan is what apply does to a job of the file, and then did.
type applyPlan struct {
	job     *checkedJob
	current *client.Job
	action  applyAction
	changes []jobChange
}

// applyResult is a job's line of jobs apply -o json.
type applyResult struct {
	Index      int         `json:"index"`
	Name       string      `json:"name"`
	ID         string      `json:"id,omitempty"`
	Action     string      `json:"action"`
	DryRun     bool        `json:"dry_run,omitempty"`
	Changes    []jobChange `json:"changes,omitempty"`
	NextFireAt *time.Time  `json:"next_fire_at,omitempty"`
	Warnings   []string    `json:"warnings,omitempty"`
}

func jobsApply(cl *cli, s *settings) func(context.Context, []string) error {
	var (
		file          string
		dryRun, force bool
	)
	s.String(&file, "file", "", "", "The job file, YAML or JSON; - for standard input. -f for short.")
	s.fs.Func("f", "", func(v string) error { file = v; return nil })
	s.Bool(&dryRun, "dry-run", "", false, "Say what would change, and change nothing.")
	s.Bool(&force, "force", "", false, "Replace jobs whose definition is unchanged too (to send a new tls.client_key,\nwhich the server never shows).")
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usageError("unexpected argument %q (the file goes after -f)", args[0])
		}
		if file == "" {
			return usageError("give the job file with -f FILE (- for standard input)")
		}
		jobs, err := cl.readJobs(file)
		if err != nil {
			return err
		}
		checked, err := checkJobs(jobs)
		if err != nil {
			return cl.refuseFile(jobs[0].file, err)
		}
		c, err := cl.client()
		if err != nil {
			return err
		}
		plans, err := planApply(ctx, c, checked, force)
		if err != nil {
			return cl.fail(fmt.Errorf("%w (nothing was applied)", err))
		}
		if dryRun {
			return cl.reportApply(plans, true)
		}
		for i, p := range plans {
			if err := applyOne(ctx, c, p); err != nil {
				if rerr := cl.reportApply(plans[:i], false); rerr != nil {
					return rerr
				}
				return cl.applyFailed(plans, i, err)
			}
		}
		return cl.reportApply(plans, false)
	}
}

// readJobs reads the jobs of file (- is standard input).
func (cl *cli) readJobs(file string) ([]*fileJob, error) {
	var r io.Reader = cl.stdin
	name := "(stdin)"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, usageError("%v", err)
		}
		defer f.Close()
		r, name = f, file
	}
	jobs, err := readJobFile(name, r)
	if err != nil {
		return nil, cl.refuseFile(name, err)
	}
	for _, j := range jobs {
		j.file = name
	}
	return jobs, nil
}

// refuseFile prints the problems of a job file, one a line, and returns the
// exit error of an invalid definition.
func (cl *cli) refuseFile(file string, err error) error {
	var fe fileErrors
	if !errors.As(err, &fe) {
		return &exitError{code: exitFailed, err: err}
	}
	for _, e := range fe {
		fmt.Fprintln(cl.stderr, e.String())
	}
	return &exitError{code: exitValidation, err: fmt.Errorf("%d problem(s) in %s: nothing was applied", len(fe), file)}
}

// planApply finds each job of the file on the server, by name, and decides
// what to do with it; nothing is changed yet.
func planApply(ctx context.Context, c *client.Client, jobs []*checkedJob, force bool) ([]*applyPlan, error) {
	plans := make([]*applyPlan, len(jobs))
	for i, j := range jobs {
		p := &applyPlan{job: j, action: actionCreate}
		found, err := jobsNamed(ctx, c, j.spec.Name)
		if err != nil {
			return nil, err
		}
		switch len(found) {
		case 0:
		case 1:
			p.current = &found[0]
			if p.changes, err = compareJob(j, p.current); err != nil {
				return nil, err
			}
			p.action = actionUnchanged
			if len(p.changes) > 0 || force {
				p.action = actionReplace
			}
		default:
			return nil, fmt.Errorf("%s:%d: %s: %d jobs on the server are named %q (%s): apply needs one; delete or rename the others",
				j.file, j.line, jobLabel(j.fileJob), len(found), j.spec.Name, jobIDs(found))
		}
		plans[i] = p
	}
	return plans, nil
}

// applyOne creates or replaces a job as planned.
func applyOne(ctx context.Context, c *client.Client, p *applyPlan) error {
	switch p.action {
	case actionCreate:
		created, err := c.CreateJob(ctx, p.job.input)
		if err != nil {
			return err
		}
		p.current = jobOf(created)
	case actionReplace:
		in := p.job.input
		if !p.job.pausedGiven {
			in.Paused = &p.current.Paused
		}
		updated, err := c.UpdateJob(ctx, p.current.Id.String(), in)
		if err != nil {
			return err
		}
		p.current = updated
	}
	return nil
}

// jobOf is the job of a create's answer.
func jobOf(j *client.JobCreated) *client.Job {
	return &client.Job{
		Id: j.Id, Name: j.Name, Schedule: j.Schedule, Tasks: j.Tasks, Paused: j.Paused, Misfire: j.Misfire,
		Overlap: j.Overlap, Labels: j.Labels, Rate: j.Rate, MaxInFlight: j.MaxInFlight, NextFireAt: j.NextFireAt,
		NextFireTimes: j.NextFireTimes, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, Warnings: j.Warnings,
	}
}

// reportApply says what apply did (or, dry, would do) to each job.
func (cl *cli) reportApply(plans []*applyPlan, dry bool) error {
	if cl.json() {
		out := make([]applyResult, len(plans))
		for i, p := range plans {
			r := applyResult{Index: p.job.index, Name: p.job.spec.Name, Action: string(p.action), DryRun: dry, Changes: p.changes}
			if p.current != nil {
				r.ID = p.current.Id.String()
				r.NextFireAt = p.current.NextFireAt
				r.Warnings = p.current.Warnings
			}
			out[i] = r
		}
		return cl.printJSON(out)
	}
	for _, p := range plans {
		var b strings.Builder
		fmt.Fprintf(&b, "job %q ", p.job.spec.Name)
		switch {
		case p.action == actionUnchanged:
			fmt.Fprintf(&b, "unchanged (%s)", p.current.Id)
		case dry:
			fmt.Fprintf(&b, "would be %s", p.action)
			if p.current != nil {
				fmt.Fprintf(&b, " (%s)", p.current.Id)
			}
		default:
			fmt.Fprintf(&b, "%s (%s), next fire: %s", p.action, p.current.Id, when(p.current.NextFireAt))
		}
		fmt.Fprintln(cl.stdout, b.String())
		for _, ch := range p.changes {
			fmt.Fprintf(cl.stdout, "    %s\n", ch)
		}
		if !dry && p.current != nil {
			for _, w := range p.current.Warnings {
				fmt.Fprintf(cl.stdout, "    warning: %s\n", w)
			}
		}
	}
	if dry {
		fmt.Fprintln(cl.stdout, "(dry run: nothing was changed)")
	}
	return nil
}

// applyFailed reports a job the server refused: which jobs were applied
// before it and which were not sent.
func (cl *cli) applyFailed(plans []*applyPlan, failed int, err error) error {
	p := plans[failed]
	var applied, notApplied []string
	for i, q := range plans {
		if i < failed {
			applied = append(applied, q.job.spec.Name)
		} else {
			notApplied = append(notApplied, q.job.spec.Name)
		}
	}
	failure := cl.fail(err)
	fmt.Fprintf(cl.stderr, "%s:%d: %s: %v\n", p.job.file, p.job.line, jobLabel(p.job.fileJob), failure)
	return &exitError{code: exitCode(failure), err: fmt.Errorf("applied: %s; not applied: %s", orNone(applied), orNone(notApplied))}
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
