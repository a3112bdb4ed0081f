package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/jobs"
)

const (
	// Results of a row of the table.
	resultOK   = "ok"
	resultFail = "FAIL"
	// listedIDs bounds the ids the report lists per check.
	listedIDs = 10
)

// row is one line of the table.
type row struct {
	Check string `json:"check"`
	Value string `json:"value"`
	// Result is resultOK, resultFail, or empty for a figure that is
	// information only.
	Result string `json:"result,omitempty"`
}

// check returns a row that passes when ok.
func check(name, value string, ok bool) row {
	if ok {
		return row{Check: name, Value: value, Result: resultOK}
	}
	return row{Check: name, Value: value, Result: resultFail}
}

// info returns a row without a verdict.
func info(name, value string) row { return row{Check: name, Value: value} }

// auditor checks the history against what the client was told and what the
// receiver got.
type auditor struct {
	h        *history
	ledger   *ledger
	arrivals []arrival
	// runsByJob are the schedule runs of each job.
	runsByJob map[string][]runRow
	// delivered maps a webhook-id to the arrivals that were answered, in
	// order of arrival.
	delivered map[string][]time.Time
	// details lists the ids behind failed checks, for the JSON.
	details map[string][]string
}

func newAuditor(h *history, l *ledger, arrivals []arrival) *auditor {
	a := &auditor{h: h, ledger: l, arrivals: arrivals, runsByJob: map[string][]runRow{}, delivered: map[string][]time.Time{}, details: map[string][]string{}}
	for _, r := range h.runs {
		if r.Trigger == "schedule" {
			a.runsByJob[r.JobID] = append(a.runsByJob[r.JobID], r)
		}
	}
	for _, ar := range arrivals {
		if !ar.Cut {
			a.delivered[ar.WebhookID] = append(a.delivered[ar.WebhookID], ar.At)
		}
	}
	for _, ts := range a.delivered {
		slices.SortFunc(ts, time.Time.Compare)
	}
	return a
}

// note keeps up to listedIDs ids behind a check.
func (a *auditor) note(name string, id string) {
	if len(a.details[name]) < listedIDs {
		a.details[name] = append(a.details[name], id)
	}
}

// webhookID is the webhook-id of the task run with id.
func webhookID(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return ""
	}
	return jobs.WebhookID(u)
}

// audit reads the history and checks it; the report says what was found.
func (s *suite) audit(ctx context.Context) (*report, error) {
	h, err := readHistory(ctx, s.db.pool)
	if err != nil {
		return nil, err
	}
	a := newAuditor(h, s.ledger, s.receiver.Arrivals())
	var rows []row
	rows = append(rows, a.registrations()...)
	rows = append(rows, a.triggers()...)
	rows = append(rows, a.ticks()...)
	rows = append(rows, a.taskRuns()...)
	rows = append(rows, a.deliveries()...)
	s.mu.Lock()
	kills, crashes := append([]killRecord(nil), s.kills...), append([]string(nil), s.crashes...)
	s.mu.Unlock()
	rows = append(rows, a.kills(kills, s.loadStart)...)
	rows = append(rows, check("replicas that exited unasked", fmt.Sprint(len(crashes)), len(crashes) == 0))
	for _, c := range crashes {
		a.note("replicas that exited unasked", c)
	}
	rows = append(rows, s.answerRows()...)
	settled := fmt.Sprintf("yes, %s after the cron jobs were paused", s.settleTook.Round(100*time.Millisecond))
	if !s.settled {
		settled = fmt.Sprintf("no, still moving %s after the cron jobs were paused", s.opts.settle)
	}
	rows = append(rows, info("history quiet before the audit", settled))
	return s.newReport(ctx, rows, a.details), nil
}
