package jobs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/internal/store"
)

const (
	// DefaultMisfireGrace is how late a tick may start and still count as on
	// time. A tick older than this when it is handled (no replica was
	// running, or the job was paused) is missed, and the job's misfire policy
	// decides what becomes of it.
	DefaultMisfireGrace = 5 * time.Second
	// MaxCatchUp is the most runs one tick starts to catch up missed ticks
	// under misfire=fire_all; older missed ticks are counted, not run.
	MaxCatchUp = 100
	// maxCount bounds counting missed ticks (a per-second schedule after a
	// long outage).
	maxCount = 1_000_000
)

// tickPlan is what to do about the ticks due when a tick is handled.
type tickPlan struct {
	// fire are the ticks to start runs for, in order.
	fire []time.Time
	// missed counts the ticks not run.
	missed int
	// next is the next tick after now, nil when the schedule has no more.
	next *time.Time
}

// planTicks decides, at now, what the tick due (the job's next_fire_at)
// and every later tick up to now become. Ticks at most grace old run;
// older ones were missed, and the misfire policy says which of them run:
// skip none, fire_once the latest, fire_all every one (up to MaxCatchUp).
func planTicks(hj *store.Job, due, now time.Time, grace time.Duration, cache *schedule.Cache) (tickPlan, error) {
	var sched jobspec.Schedule
	if len(hj.Schedule) > 0 {
		if err := json.Unmarshal(hj.Schedule, &sched); err != nil {
			return tickPlan{}, fmt.Errorf("decode schedule of job %s: %w", hj.ID, err)
		}
	}
	anchor := hj.CreatedAt
	if hj.ScheduleAnchor != nil {
		anchor = *hj.ScheduleAnchor
	}
	rec, err := sched.Compile(anchor, cache)
	if err != nil {
		return tickPlan{}, fmt.Errorf("schedule of job %s: %w", hj.ID, err)
	}
	return planRec(rec, hj.Misfire, due, now, grace), nil
}

// planRec is planTicks for the recurring schedule rec (nil: a one-off
// tick) under the misfire policy.
func planRec(rec schedule.Schedule, misfire string, due, now time.Time, grace time.Duration) tickPlan {
	ticks := []time.Time{due}
	var plan tickPlan
	if rec != nil {
		later, truncated := schedule.Between(rec, due, now, MaxCatchUp)
		ticks = append(ticks, later...)
		if truncated {
			// More ticks passed than are worth listing: count the rest and
			// keep the latest, all missed (the outage outlasted any grace).
			n, latest := countBetween(rec, ticks[len(ticks)-1], now)
			return planMissed(misfire, ticks, n, latest, rec.Next(now))
		}
		// After now, and after due: a tick handled ahead of its time
		// (FireLead) has now before due.
		if next := rec.Next(laterOf(now, ticks[len(ticks)-1])); !next.IsZero() {
			plan.next = &next
		}
	}

	cutoff := now.Add(-grace)
	firstOnTime := len(ticks)
	for i, t := range ticks {
		if !t.Before(cutoff) {
			firstOnTime = i
			break
		}
	}
	late, onTime := ticks[:firstOnTime], ticks[firstOnTime:]
	switch {
	case len(late) == 0:
		plan.fire = onTime
	case misfire == jobspec.MisfireSkip:
		plan.fire, plan.missed = onTime, len(late)
	case misfire == jobspec.MisfireFireAll:
		plan.fire = ticks
	default: // fire_once
		plan.fire = append([]time.Time{late[len(late)-1]}, onTime...)
		plan.missed = len(late) - 1
	}
	return plan
}

// planMissed is the plan when listed (the oldest ticks) and n more ticks up
// to latest were all missed.
func planMissed(misfire string, listed []time.Time, n int, latest, next time.Time) tickPlan {
	plan := tickPlan{missed: len(listed) + n}
	if !next.IsZero() {
		plan.next = &next
	}
	switch misfire {
	case jobspec.MisfireSkip:
	case jobspec.MisfireFireAll:
		plan.fire = listed[:min(len(listed), MaxCatchUp)]
		plan.missed -= len(plan.fire)
	default: // fire_once
		plan.fire = []time.Time{latest}
		plan.missed--
	}
	return plan
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// countBetween counts the ticks in (from, to], up to maxCount, and returns
// the last one counted.
func countBetween(s schedule.Schedule, from, to time.Time) (int, time.Time) {
	n, last := 0, from
	for t := s.Next(from); !t.IsZero() && !t.After(to) && n < maxCount; t = s.Next(t) {
		n, last = n+1, t
	}
	return n, last
}
