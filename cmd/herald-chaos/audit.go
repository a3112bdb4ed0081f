package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/jobs"
)

const (
	// Results of a row of the table.
	resultOK   = "ok"
	resultFail = "FAIL"
	// tickMargin keeps the seconds around a cron job's registration and
	// pause out of its audited window: herald's clock and the database's
	// may put a boundary tick on either side, and a pause cancels the ticks
	// already prepared (up to 1.5s ahead).
	tickMargin = 2 * time.Second
	// cutWindow is how soon after a kill a request cut at the receiver
	// counts as the killed replica's.
	cutWindow = 2 * time.Second
	// listedIDs bounds the ids the report lists per check.
	listedIDs = 10
)

// finalStates are the task run states nothing follows.
var finalStates = []string{"succeeded", "failed", "upstream_failed", "cancelled"}

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

// registrations: every acknowledged registration exists.
func (a *auditor) registrations() []row {
	var acked, found int
	failed := map[int]int{}
	why := map[int]string{}
	byKind := map[string]int{}
	keys := map[string]bool{}
	for _, j := range a.h.jobs {
		keys[j.Key] = true
	}
	storedAnyway := 0
	for _, r := range a.ledger.Registrations() {
		if !r.Acked {
			failed[r.Status]++
			why[r.Status] = r.Err
			if keys[r.Key] {
				storedAnyway++
			}
			continue
		}
		acked++
		byKind[r.Kind]++
		if _, ok := a.h.jobs[r.ID]; ok {
			found++
		} else {
			a.note("registrations missing", r.ID)
		}
	}
	var kinds []string
	for _, k := range []string{kindOneOff, kindCron, kindDAG, kindManual} {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, byKind[k]))
	}
	return []row{
		check("registrations acknowledged / found", fmt.Sprintf("%d / %d", acked, found), acked == found && acked > 0),
		info("registrations acknowledged by kind", strings.Join(kinds, ", ")),
		info("registrations not acknowledged (last answer)", fmt.Sprintf("%d: %s; stored anyway: %d%s", sum(failed), formatStatuses(failed), storedAnyway, formatReasons(why))),
	}
}

// triggers: every acknowledged trigger has its run.
func (a *auditor) triggers() []row {
	runs := map[string]runRow{}
	for _, r := range a.h.runs {
		runs[r.ID] = r
	}
	var acked, found int
	failed := map[int]int{}
	why := map[int]string{}
	for _, t := range a.ledger.Triggers() {
		if !t.Acked {
			failed[t.Status]++
			why[t.Status] = t.Err
			continue
		}
		acked++
		if r, ok := runs[t.ID]; ok && r.JobID == t.JobID && r.Trigger == "manual" {
			found++
		} else {
			a.note("triggers missing", t.ID)
		}
	}
	return []row{
		check("triggers acknowledged / found", fmt.Sprintf("%d / %d", acked, found), acked == found && acked > 0),
		info("triggers not acknowledged (last answer)", fmt.Sprintf("%d: %s%s", sum(failed), formatStatuses(failed), formatReasons(why))),
	}
}

// tickCount sums a kind of ticks.
type tickCount struct {
	Expected, Run, Missed, Doubled, Lost int
}

func (c tickCount) String() string {
	return fmt.Sprintf("%d / %d / %d / %d", c.Expected, c.Run, c.Missed, c.Doubled)
}

// doubledAtReceiver returns the ticks (job and Herald-Scheduled-For) that
// reached the receiver from two runs, or for one task under two webhook-ids.
func (a *auditor) doubledAtReceiver() map[string]bool {
	runs := map[string]map[string]bool{}
	ids := map[string]map[string]bool{}
	add := func(m map[string]map[string]bool, key, v string) {
		if m[key] == nil {
			m[key] = map[string]bool{}
		}
		m[key][v] = true
	}
	for _, ar := range a.arrivals {
		if j, ok := a.h.jobs[ar.Job]; !ok || (j.Kind != kindCron && j.Kind != kindOneOff) {
			continue
		}
		add(runs, ar.Job+"|"+ar.ScheduledFor, ar.Run)
		add(ids, ar.Job+"|"+ar.ScheduledFor+"|"+ar.Task, ar.WebhookID)
	}
	out := map[string]bool{}
	for key, set := range runs {
		if len(set) > 1 {
			out[key] = true
		}
	}
	for key, set := range ids {
		if len(set) > 1 {
			job, rest, _ := strings.Cut(key, "|")
			sf, _, _ := strings.Cut(rest, "|")
			out[job+"|"+sf] = true
		}
	}
	return out
}

// tickKey is the key of a tick in doubledAtReceiver.
func tickKey(job string, at time.Time) string {
	return job + "|" + at.UTC().Format(time.RFC3339Nano)
}

// cronTicks counts the per-second ticks of every cron job from two seconds
// after its registration to two seconds before its pause.
func (a *auditor) cronTicks(doubled map[string]bool) tickCount {
	var c tickCount
	for _, j := range a.h.jobs {
		if j.Kind != kindCron {
			continue
		}
		pause, ok := a.ledger.Pause(j.ID)
		if !ok {
			continue // acknowledged after the pauses began: not audited
		}
		from := j.CreatedAt.Truncate(time.Second).Add(tickMargin)
		to := pause.At.Add(-tickMargin)
		if !to.After(from) {
			continue
		}
		expected := int((to.Sub(from) + time.Second - 1) / time.Second)
		perSecond := map[time.Time]int{}
		for _, r := range a.runsByJob[j.ID] {
			at := r.ScheduledFor
			if at.Before(from) || !at.Before(to) {
				continue
			}
			if !at.Equal(at.Truncate(time.Second)) {
				c.Doubled++ // a tick the schedule does not have
				a.note("doubled ticks", r.ID)
				continue
			}
			perSecond[at]++
		}
		for at, n := range perSecond {
			if n > 1 || doubled[tickKey(j.ID, at)] {
				c.Doubled++
				a.note("doubled ticks", j.ID+" "+at.Format(time.RFC3339))
			}
		}
		run := len(perSecond)
		c.Expected += expected
		c.Run += run
		c.Missed += int(j.MissedTicks)
		if lost := expected - run - int(j.MissedTicks); lost > 0 {
			c.Lost += lost
			a.note("ticks lost", fmt.Sprintf("cron job %s: %d", j.ID, lost))
		}
	}
	return c
}

// oneOffTicks counts the one tick of every one-off job.
func (a *auditor) oneOffTicks(doubled map[string]bool) tickCount {
	var c tickCount
	for _, j := range a.h.jobs {
		if j.Kind != kindOneOff {
			continue
		}
		c.Expected++
		runs := a.runsByJob[j.ID]
		switch {
		case len(runs) == 1 && !doubled[tickKey(j.ID, runs[0].ScheduledFor)]:
			c.Run++
		case len(runs) >= 1:
			c.Run++
			c.Doubled++
			a.note("doubled ticks", j.ID)
		case j.MissedTicks > 0:
			c.Missed++
		default:
			c.Lost++
			a.note("ticks lost", "one-off job "+j.ID)
		}
	}
	return c
}

// ticks: every expected tick ran once or was counted missed by the job's
// misfire policy.
func (a *auditor) ticks() []row {
	doubled := a.doubledAtReceiver()
	cron, oneOff := a.cronTicks(doubled), a.oneOffTicks(doubled)
	const cols = "expected / run / missed by policy / doubled"
	return []row{
		check("per-second ticks "+cols, cron.String(), cron.Doubled == 0),
		check("one-off ticks "+cols, oneOff.String(), oneOff.Doubled == 0),
		check("ticks lost (neither run nor counted missed)", fmt.Sprint(cron.Lost+oneOff.Lost), cron.Lost+oneOff.Lost == 0),
	}
}

// taskRuns: every task run is final, none failed (the receiver answers 200
// to everything, so a failed task run is a delivery herald gave up on), and
// every one that succeeded reached the receiver.
func (a *auditor) taskRuns() []row {
	byState := map[string]int{}
	final, notFinal, failed, undelivered := 0, 0, 0, 0
	for _, t := range a.h.taskRuns {
		byState[t.State]++
		switch {
		case !slices.Contains(finalStates, t.State):
			notFinal++
			a.note("task runs not final", t.ID+" ("+t.State+")")
			continue
		case t.State == "failed" || t.State == "upstream_failed":
			failed++
			a.note("task runs failed", t.ID)
		case t.State == "succeeded" && len(a.delivered[webhookID(t.ID)]) == 0:
			undelivered++
			a.note("succeeded task runs never delivered", t.ID)
		}
		final++
	}
	var states []string
	for _, s := range slices.Sorted(maps.Keys(byState)) {
		states = append(states, fmt.Sprintf("%s %d", s, byState[s]))
	}
	return []row{
		check("task runs final / not final", fmt.Sprintf("%d / %d", final, notFinal), notFinal == 0),
		info("task runs by state", strings.Join(states, ", ")),
		check("task runs failed (the receiver answers 200 to all)", fmt.Sprint(failed), failed == 0),
		check("succeeded task runs never delivered", fmt.Sprint(undelivered), undelivered == 0),
	}
}

// deliveries: repeats of a webhook-id are allowed (at least once); a task
// of a run delivered under two webhook-ids is not.
func (a *auditor) deliveries() []row {
	ids := map[string]bool{}
	perTask := map[string]map[string]bool{}
	cut := 0
	for _, ar := range a.arrivals {
		ids[ar.WebhookID] = true
		if ar.Cut {
			cut++
		}
		key := ar.Run + "|" + ar.Task
		if perTask[key] == nil {
			perTask[key] = map[string]bool{}
		}
		perTask[key][ar.WebhookID] = true
	}
	two := 0
	for key, set := range perTask {
		if len(set) > 1 {
			two++
			a.note("tasks delivered under two webhook-ids", key)
		}
	}
	return []row{
		info("deliveries / webhook-ids / repeats (same webhook-id: at least once)",
			fmt.Sprintf("%d / %d / %d", len(a.arrivals), len(ids), len(a.arrivals)-len(ids))),
		info("deliveries cut mid-request (sender gone)", fmt.Sprint(cut)),
		check("ticks or tasks delivered under two webhook-ids", fmt.Sprint(two), two == 0),
	}
}

// kills: what each killed replica held reached the receiver after the kill,
// and how long after it the last of it did.
func (a *auditor) kills(kills []killRecord, loadStart time.Time) []row {
	var rows []row
	for _, k := range kills {
		name := fmt.Sprintf("SIGKILL of replica %d at %s: deliveries held / delivered since / longest kill → arrival",
			k.Replica, formatOffset(k.At.Sub(loadStart)))
		if k.HeldErr != "" {
			rows = append(rows, check(name, "unknown: "+k.HeldErr, false))
			continue
		}
		onWire := 0
		for _, ar := range a.arrivals {
			if ar.Cut && !ar.Done.Before(k.At) && ar.Done.Sub(k.At) < cutWindow {
				onWire++
			}
		}
		arrived := 0
		var longest time.Duration
		for _, hd := range k.Held {
			ts := a.delivered[webhookID(hd.TaskRunID.String())]
			i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(k.At) })
			if i == len(ts) {
				a.note("held deliveries never delivered", hd.TaskRunID.String())
				continue
			}
			arrived++
			longest = max(longest, ts[i].Sub(k.At))
		}
		longestText := "none held"
		switch {
		case arrived < len(k.Held):
			longestText = fmt.Sprintf("∞ (%d never arrived)", len(k.Held)-arrived)
		case arrived > 0:
			longestText = longest.Round(10 * time.Millisecond).String()
		}
		rows = append(rows, check(name,
			fmt.Sprintf("%d (%d on the wire) / %d / %s", len(k.Held), onWire, arrived, longestText),
			arrived == len(k.Held)))
	}
	return rows
}

// webhookID is the webhook-id of the task run with id.
func webhookID(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return ""
	}
	return jobs.WebhookID(u)
}

// formatReasons renders one reason per status: "; 422: at is in the past".
func formatReasons(why map[int]string) string {
	var b strings.Builder
	for _, status := range slices.Sorted(maps.Keys(why)) {
		reason := why[status]
		if len(reason) > 120 {
			reason = reason[:120] + "..."
		}
		fmt.Fprintf(&b, "; %d: %s", status, reason)
	}
	return b.String()
}

// sum adds the counts of a status map.
func sum(counts map[int]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
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

// answerRows are the API's answers through nginx in each phase, and the
// requests nginx passed to another replica.
func (s *suite) answerRows() []row {
	phases := s.answers.Phases()
	var rows []row
	for _, phase := range []string{phaseSteady, stepKill, stepOutage, stepRolling} {
		if counts, ok := phases[phase]; ok {
			rows = append(rows, info("API answers through nginx, "+phaseName(phase), formatStatuses(counts)))
		}
	}
	retried, err := s.lb.Retried()
	value := fmt.Sprint(retried)
	if err != nil {
		value = "unknown: " + err.Error()
	}
	return append(rows, info("requests nginx tried on more than one replica", value))
}

// phaseName describes a phase for the table.
func phaseName(phase string) string {
	switch phase {
	case stepKill:
		return "from a SIGKILL to the restart"
	case stepOutage:
		return "while PostgreSQL was down"
	case stepRolling:
		return "during the rolling restart"
	}
	return "outside the faults"
}
