package views

import (
	"fmt"
	"strconv"
	"time"

	"github.com/a-h/templ"
)

// Timeline is a run on one time axis: a row per task, in the order given
// (graph order), with a bar per attempt: how long the attempt waited to be
// sent (queued: its dependencies done, or its retry due, until it began),
// how long its request took (sending), and how long it then waited for its
// retry. Positions are percentages of the axis, from the run's creation to
// its end (now, while it runs).
type Timeline struct {
	Rows  []TimelineRow
	Ticks []TimelineTick
	// Span is the axis's length, written for people.
	Span string
}

// TimelineRow is a task's row.
type TimelineRow struct {
	TaskID string
	State  string
	Bars   []TimelineBar
}

// TimelineBar is one attempt of a task: its parts, on the axis.
type TimelineBar struct {
	Attempt int32
	// Outcome is the attempt's (succeeded, retrying, failed, lost),
	// "running" while its request is on its way, or "queued" for one not
	// sent yet.
	Outcome string
	Parts   []TimelinePart
}

// TimelinePart is a stretch of an attempt: queued, sending or retry (the
// wait for the retry).
type TimelinePart struct {
	Kind        string
	Left, Width float64 // percent of the axis
	Title       string
}

// Style places the part on its row.
func (p TimelinePart) Style() templ.SafeCSS {
	return templ.SafeCSS("left:" + pct(p.Left) + ";width:" + pct(p.Width))
}

// TimelineTick is a mark of the axis.
type TimelineTick struct {
	Left  float64
	Label string
}

// Style places the tick.
func (t TimelineTick) Style() templ.SafeCSS { return templ.SafeCSS("left:" + pct(t.Left)) }

func pct(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) + "%" }

// interval is a stretch of time of a part, before it is put on the axis.
type interval struct {
	kind, title string
	from, to    time.Time
}

// BuildTimeline lays the tasks' attempts on the run's time axis; now ends
// what has not ended yet.
func BuildTimeline(run RunSummary, tasks []TaskRow, now time.Time) Timeline {
	start, end := run.CreatedAt, now
	if run.FinishedAt != nil {
		end = *run.FinishedAt
	}
	type bar struct {
		attempt int32
		outcome string
		parts   []interval
	}
	open := now // what has not ended ends here
	if run.FinishedAt != nil {
		open = *run.FinishedAt
	}
	rows := make([][]bar, len(tasks))
	for i, t := range tasks {
		due := t.ReadyAt // when the next attempt could begin
		for _, a := range t.Attempts {
			b := bar{attempt: a.Attempt, outcome: a.Outcome}
			if due != nil && due.Before(a.StartedAt) {
				b.parts = append(b.parts, interval{"queued", "queued " + Duration(a.StartedAt.Sub(*due)), *due, a.StartedAt})
			}
			sent := a.StartedAt.Add(millis(a.DurationMs))
			b.parts = append(b.parts, interval{"sending", sendingTitle(a), a.StartedAt, sent})
			due = nil // after a last attempt, only a retry of the run sends again
			if a.NextRetry != nil {
				retry := *a.NextRetry
				title := "waiting " + Duration(retry.Sub(sent)) + " to retry"
				b.parts = append(b.parts, interval{"retry", title, sent, maxTime(sent, minTime(retry, open))})
				due = &retry
			}
			rows[i] = append(rows[i], b)
		}
		switch {
		case t.State == "running" && int(t.CurrentAttempt) > len(t.Attempts):
			// The request is on its way: it began at the task's start, or
			// when its retry was due.
			from := due
			if len(t.Attempts) == 0 && t.StartedAt != nil {
				from = t.StartedAt
			}
			if from != nil && from.Before(open) {
				rows[i] = append(rows[i], bar{attempt: t.CurrentAttempt, outcome: "running", parts: []interval{
					{"sending", fmt.Sprintf("attempt %d: sending for %s so far", t.CurrentAttempt, Duration(open.Sub(*from))), *from, open},
				}})
			}
		case (t.State == "pending" || t.State == "retrying") && due != nil && due.Before(open):
			rows[i] = append(rows[i], bar{attempt: int32(len(t.Attempts) + 1), outcome: "queued", parts: []interval{
				{"queued", "queued for " + Duration(open.Sub(*due)) + " so far", *due, open},
			}})
		}
		for _, b := range rows[i] {
			for _, p := range b.parts {
				start = minTime(start, p.from)
				end = maxTime(end, p.to)
			}
		}
	}
	span := end.Sub(start)
	tl := Timeline{Span: Duration(span), Rows: make([]TimelineRow, len(tasks))}
	at := func(t time.Time) float64 {
		if span <= 0 {
			return 0
		}
		return 100 * float64(t.Sub(start)) / float64(span)
	}
	for i, t := range tasks {
		row := TimelineRow{TaskID: t.TaskID, State: t.State}
		for _, b := range rows[i] {
			tb := TimelineBar{Attempt: b.attempt, Outcome: b.outcome}
			for _, p := range b.parts {
				left := at(p.from)
				tb.Parts = append(tb.Parts, TimelinePart{Kind: p.kind, Left: left, Width: at(p.to) - left, Title: p.title})
			}
			row.Bars = append(row.Bars, tb)
		}
		tl.Rows[i] = row
	}
	step := tickStep(span)
	for d := time.Duration(0); d <= span && step > 0; d += step {
		tl.Ticks = append(tl.Ticks, TimelineTick{Left: at(start.Add(d)), Label: tickLabel(d)})
	}
	return tl
}

func sendingTitle(a AttemptRow) string {
	s := "attempt " + strconv.Itoa(int(a.Attempt)) + ": " + durationMs(a.DurationMs)
	if a.Status != "" {
		s += ", HTTP " + a.Status
	} else {
		s += ", no response"
	}
	return s + ", " + a.Outcome
}

// tickSteps are the axis's possible steps.
var tickSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// maxTicks bounds the marks of the axis.
const maxTicks = 8

// tickStep is the smallest step that marks the span at most maxTicks
// times (0 for an empty span).
func tickStep(span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	for _, s := range tickSteps {
		if span/s < maxTicks {
			return s
		}
	}
	return span / maxTicks
}

// tickLabel writes a mark of the axis: "0", "500 ms", "1.5 s", "2 min".
func tickLabel(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
	case d%time.Minute == 0 && d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return Duration(d)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
