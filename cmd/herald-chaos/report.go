package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// report is what a run did and found, as printed and written to JSON.
type report struct {
	Date string `json:"date"`
	// Took is the run's wall time so far: build, start, load, settle, audit.
	Took        string  `json:"took"`
	TookSeconds float64 `json:"took_seconds"`
	// Load is how long the load ran.
	Load     string `json:"load"`
	Replicas int    `json:"replicas"`
	// HeraldFlags were passed to every replica; MissingFlags were meant to
	// be but this herald lacks them.
	HeraldFlags  string   `json:"herald_flags"`
	MissingFlags []string `json:"missing_flags,omitempty"`
	Nginx        string   `json:"nginx"`
	Database     string   `json:"database"`
	Faults       []string `json:"faults"`
	// Events is the timeline, offsets from the start of the load.
	Events []timelineEvent `json:"events"`
	Rows   []row           `json:"rows"`
	// Details lists ids behind the failed checks.
	Details map[string][]string `json:"details,omitempty"`
	Passed  bool                `json:"passed"`
}

// timelineEvent is an event at an offset from the start of the load.
type timelineEvent struct {
	Offset string `json:"offset"`
	What   string `json:"what"`
}

// newReport assembles the report of the run.
func (s *suite) newReport(ctx context.Context, rows []row, details map[string][]string) *report {
	took := time.Since(s.begin)
	r := &report{
		Date:         s.begin.UTC().Format(time.RFC3339),
		Took:         took.Round(time.Second).String(),
		TookSeconds:  took.Seconds(),
		Replicas:     replicaCount,
		HeraldFlags:  strings.Join(append(append([]string(nil), s.heraldFlags...), s.opts.heraldArgs...), " "),
		MissingFlags: s.missingFlags,
		Nginx:        s.lb.version,
		Database:     s.db.Describe(ctx),
		Faults:       s.opts.faults,
		Rows:         rows,
		Details:      details,
		Passed:       true,
	}
	s.mu.Lock()
	for _, e := range s.events {
		r.Events = append(r.Events, timelineEvent{Offset: formatOffset(e.At.Sub(s.loadStart)), What: e.What})
		if e.What == "load stopped" {
			r.Load = e.At.Sub(s.loadStart).Round(100 * time.Millisecond).String()
		}
	}
	s.mu.Unlock()
	for _, row := range rows {
		if row.Result == resultFail {
			r.Passed = false
		}
	}
	return r
}

// formatOffset renders an offset from the start of the load: +12.3s, -4.0s.
func formatOffset(d time.Duration) string {
	return fmt.Sprintf("%+.1fs", d.Seconds())
}

// print writes the header, the timeline, the table and the table again as
// Markdown.
func (r *report) print(w io.Writer) error {
	fmt.Fprintf(w, "\nherald-chaos %s: %d replicas behind nginx %s, load %s, took %s\n", r.Date, r.Replicas, r.Nginx, r.Load, r.Took)
	fmt.Fprintf(w, "database: %s\n", r.Database)
	fmt.Fprintf(w, "replica flags: %s\n", r.HeraldFlags)
	if len(r.MissingFlags) > 0 {
		fmt.Fprintf(w, "not in this herald (left out): --%s\n", strings.Join(r.MissingFlags, ", --"))
	}
	fmt.Fprintf(w, "faults: %s\n\ntimeline (from the start of the load):\n", strings.Join(r.Faults, ", "))
	for _, e := range r.Events {
		fmt.Fprintf(w, "  %8s  %s\n", e.Offset, e.What)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tVALUE\tRESULT")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", row.Check, row.Value, row.Result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for name, ids := range r.Details {
		fmt.Fprintf(w, "%s: %s\n", name, strings.Join(ids, ", "))
	}
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "\n%s in %s\n\nMarkdown:\n\n", verdict, r.Took)
	return r.printMarkdown(w)
}

// printMarkdown writes the table as Markdown, for README and
// deploy/README.md.
func (r *report) printMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "`make chaos`, %s: %d replicas behind nginx %s, load %s (%s), took %s.\n\n",
		r.Date, r.Replicas, r.Nginx, r.Load, strings.Join(r.Faults, ", "), r.Took)
	fmt.Fprintln(w, "| check | value | result |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", mdEscape(row.Check), mdEscape(row.Value), row.Result)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// mdEscape keeps a cell's pipes from ending it.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// writeJSON writes the report to path, indented.
func (r *report) writeJSON(path string) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
