package main

import (
	"fmt"
	"strings"
	"time"
)

// tickMargin keeps the seconds around a cron job's registration and pause
// out of its audited window: herald's clock and the database's may put a
// boundary tick on either side, and a pause cancels the ticks already
// prepared (up to 1.5s ahead).
const tickMargin = 2 * time.Second

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
