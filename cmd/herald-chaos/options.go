package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Defaults of `make chaos`: about two and a half minutes in all.
const (
	defaultDuration   = 90 * time.Second
	defaultPause      = 12 * time.Second
	defaultOutage     = 15 * time.Second
	defaultKillDown   = 5 * time.Second
	defaultSettle     = 60 * time.Second
	defaultSlow       = 1500 * time.Millisecond
	defaultOpDeadline = 45 * time.Second
	// maxRun is the longest a run may be set up to take, roughly: load and
	// settle, with room for the build and the starts within 5 minutes.
	maxRun = 4 * time.Minute
)

// options are the command line and environment of one run.
type options struct {
	// duration is how long the load runs (longer if the faults take longer).
	duration time.Duration
	// pause is the quiet time before each fault and after the last.
	pause time.Duration
	// outage is how long PostgreSQL stays down.
	outage time.Duration
	// killDown is how long a SIGKILLed replica stays down before its restart.
	killDown time.Duration
	// settle bounds the wait for the history to become quiet after the load.
	settle time.Duration
	// slow is how long the receiver's slow endpoint takes to answer.
	slow time.Duration
	// opDeadline bounds a client operation with its retries.
	opDeadline time.Duration
	// faults are the steps, in order: kill, outage, rolling.
	faults []string
	// load is the load's shape.
	load loadConfig
	// heraldBin is the herald binary; empty builds ./cmd/herald.
	heraldBin string
	// heraldArgs are more `herald serve` arguments for every replica.
	heraldArgs []string
	// jsonPath, when set, receives the report as JSON.
	jsonPath string
	// keep keeps the work directory of a run that passed.
	keep bool
	// databaseURL names a server to create the run's database on; empty
	// starts an embedded PostgreSQL.
	databaseURL string
	// logLevel filters the progress log on stderr.
	logLevel slog.Level
}

// parseOptions reads the command line, and DATABASE_URL through getenv.
func parseOptions(args []string, errOut io.Writer, getenv func(string) string) (options, error) {
	fs := flag.NewFlagSet("herald-chaos", flag.ContinueOnError)
	fs.SetOutput(errOut)
	opts := options{load: defaultLoad()}
	var faults, heraldArgs, level string
	fs.DurationVar(&opts.duration, "duration", defaultDuration, "how long the load runs (at least until the faults are over)")
	fs.DurationVar(&opts.pause, "pause", defaultPause, "quiet load before each fault and after the last")
	fs.DurationVar(&opts.outage, "outage", defaultOutage, "how long PostgreSQL stays down")
	fs.DurationVar(&opts.killDown, "kill-down", defaultKillDown, "how long the SIGKILLed replica stays down before it is restarted")
	fs.DurationVar(&opts.settle, "settle", defaultSettle, "longest wait, after the load, for every task run to finish")
	fs.DurationVar(&opts.slow, "slow", defaultSlow, "how long the receiver's slow endpoint takes to answer")
	fs.DurationVar(&opts.opDeadline, "op-deadline", defaultOpDeadline, "how long the client retries one registration or trigger")
	fs.StringVar(&faults, "faults", strings.Join([]string{stepKill, stepOutage, stepRolling}, ","), "the faults, in order: kill (SIGKILL a replica, restart it), outage (stop PostgreSQL), rolling (SIGTERM and restart each replica)")
	fs.IntVar(&opts.load.CronJobs, "cron-jobs", opts.load.CronJobs, "per-second cron jobs registered when the load starts (one more every 15s)")
	fs.StringVar(&opts.heraldBin, "herald", "", "herald binary to run (default: go build ./cmd/herald into the work directory)")
	fs.StringVar(&heraldArgs, "herald-args", "", "more herald serve arguments for every replica, space-separated (e.g. \"--rescue-after 20s --max-request-timeout 5s\")")
	fs.StringVar(&opts.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&opts.keep, "keep", false, "keep the work directory (logs, database) of a run that passed; a failed run's is always kept")
	fs.StringVar(&level, "log-level", "info", "progress log level on stderr: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(errOut, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if opts.faults, err = parseFaults(faults); err != nil {
		return options{}, err
	}
	opts.heraldArgs = strings.Fields(heraldArgs)
	if err := opts.logLevel.UnmarshalText([]byte(level)); err != nil {
		return options{}, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	if budget := opts.budget(); budget > maxRun {
		return options{}, fmt.Errorf("the run would take about %s of load and settling, more than %s: shorten -duration, -pause, -outage or -settle", budget, maxRun)
	}
	opts.databaseURL = getenv("DATABASE_URL")
	return opts, nil
}

// budget is about how long the load and the wait after it take at most.
func (o options) budget() time.Duration {
	faults := time.Duration(len(o.faults)+1) * o.pause
	for _, f := range o.faults {
		switch f {
		case stepKill:
			faults += o.killDown
		case stepOutage:
			faults += o.outage
		case stepRolling:
			faults += replicaCount * 5 * time.Second // a stop and a start each
		}
	}
	return max(o.duration, faults) + o.settle
}

// parseFaults splits the -faults list and checks every step.
func parseFaults(list string) ([]string, error) {
	known := []string{stepKill, stepOutage, stepRolling}
	var out []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("-faults: unknown fault %q (want some of %s)", name, strings.Join(known, ","))
		}
		out = append(out, name)
	}
	return out, nil
}

// usage opens --help.
const usage = `Usage: herald-chaos [flags]

Runs three herald replicas (herald serve) behind nginx (the shipped
deploy/nginx/herald.conf) on loopback, drives load through nginx (one-off,
per-second cron and DAG registrations, manual triggers) while it SIGKILLs a
replica and restarts it, stops PostgreSQL and starts it again, and restarts
every replica with SIGTERM, then audits herald's history and the receiver's
log and prints a table (and the same table in Markdown). It exits 1 when an
acknowledged registration or trigger is missing, a tick was neither run nor
counted missed, a tick ran twice, a task run is not final or failed, a
delivery a killed replica held never arrived, or a task was delivered under
two webhook-ids.

DATABASE_URL, if set, names a server to create the run's database on (the
database outage is then skipped); otherwise an embedded PostgreSQL runs in the
work directory. Needs Go, nginx (apt-get install nginx) and, without
DATABASE_URL, the PostgreSQL server binaries (apt-get install postgresql).

Flags:
`
