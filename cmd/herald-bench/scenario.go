package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// scenario is one measurement of the benchmark.
type scenario struct {
	// name is how -only selects it.
	name string
	// title says what it measures, for the log and the report.
	title string
	// run measures it and returns its figures. A scenario whose feature
	// herald does not offer yet returns a *notAvailableError.
	run func(ctx context.Context, e *env) ([]metric, error)
}

// allScenarios lists the scenarios in the order they run: the baseline
// first, since the others report ratios to it.
func allScenarios() []scenario {
	return []scenario{
		{name: "baseline", title: "River no-op jobs, continuous insert and work", run: runBaseline},
		{name: "delivery", title: "single-task runs delivered to the receiver, continuously", run: runDelivery},
		{name: "lateness", title: "per-second cron schedules: arrival minus Herald-Scheduled-For", run: runLateness},
		{name: "spread", title: "10-second cron schedules, a tenth firing each second: lateness with many active", run: runSpread},
		{name: "ingest", title: "concurrent POST /v1/jobs", run: runIngest},
		{name: "dag", title: "one run of a DAG: fan-out, fan-in, chain", run: runDAG},
		{name: "memory", title: "resident memory of herald per active schedule", run: runMemory},
		{name: "heartbeat", title: "device heartbeats ingested, and deliveries before, during and after them", run: runHeartbeat},
		{name: "placement", title: "a task placed in a pool of devices: trigger to arrival, against a URL task", run: runPlacement},
		{name: "pull", title: "pull-mode devices long-polling: trigger to task received", run: runPull},
		{name: "fleet", title: "one fleet run over every device, in one wave: its creation, and its delivery rate", run: runFleet},
	}
}

// scenarioNames lists the scenarios' names in running order.
func scenarioNames() []string {
	var names []string
	for _, s := range allScenarios() {
		names = append(names, s.name)
	}
	return names
}

// selectScenarios returns the scenarios named in only, in running order;
// all of them when only is empty.
func selectScenarios(only []string) []scenario {
	all := allScenarios()
	if len(only) == 0 {
		return all
	}
	return slices.DeleteFunc(all, func(s scenario) bool { return !slices.Contains(only, s.name) })
}

// notAvailableError says that herald does not offer what a scenario
// measures (yet): the scenario is skipped, not failed.
type notAvailableError struct {
	reason string
}

func (e *notAvailableError) Error() string { return "not available: " + e.reason }

// notAvailable returns a *notAvailableError.
func notAvailable(format string, args ...any) error {
	return &notAvailableError{reason: fmt.Sprintf(format, args...)}
}

// result is what one scenario produced.
type result struct {
	Scenario string `json:"scenario"`
	Title    string `json:"title"`
	// Seconds is how long the scenario took, set-up included.
	Seconds float64  `json:"seconds"`
	Metrics []metric `json:"metrics,omitempty"`
	// Skipped says why the scenario was skipped.
	Skipped string `json:"skipped,omitempty"`
	// Error says why the scenario failed.
	Error string `json:"error,omitempty"`
}

// runScenarios runs the scenarios one after another. A failed scenario is
// recorded and the next one runs; cancellation stops the run. The error
// joins the failures.
func runScenarios(ctx context.Context, e *env, list []scenario) ([]result, error) {
	var results []result
	var failures []error
	for _, s := range list {
		e.logger.InfoContext(ctx, "scenario starts", slog.String("scenario", s.name), slog.String("measures", s.title))
		begin := time.Now()
		metrics, err := s.run(ctx, e)
		r := result{Scenario: s.name, Title: s.title, Seconds: time.Since(begin).Seconds(), Metrics: metrics}
		var na *notAvailableError
		switch {
		case ctx.Err() != nil:
			return results, errors.Join(append(failures, fmt.Errorf("%s: interrupted: %w", s.name, context.Cause(ctx)))...)
		case errors.As(err, &na):
			r.Skipped = na.Error()
			e.logger.WarnContext(ctx, "scenario skipped", slog.String("scenario", s.name), slog.String("reason", r.Skipped))
		case err != nil:
			r.Error = err.Error()
			failures = append(failures, fmt.Errorf("%s: %w", s.name, err))
			e.logger.ErrorContext(ctx, "scenario failed", slog.String("scenario", s.name), slog.Any("error", err))
		default:
			e.logger.InfoContext(ctx, "scenario done", slog.String("scenario", s.name), slog.Duration("took", time.Since(begin).Round(time.Millisecond)))
		}
		results = append(results, r)
	}
	return results, errors.Join(failures...)
}
