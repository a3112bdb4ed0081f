package jobs

import (
	"encoding/json"
	"github.com/herald-sched/herald/internal/state"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/internal/store"
)

// planTicks decides, at a fixed now, which ticks run and which were missed:
// no clock, no database, no sleep.
func TestPlanTicks(t *testing.T) {
	t.Parallel()
	anchor := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	due := anchor.Add(time.Second) // the first tick of an every-second job
	sec := func(n int) time.Time { return due.Add(time.Duration(n) * time.Second) }
	ticks := func(from, to int) []time.Time {
		var out []time.Time
		for i := from; i <= to; i++ {
			out = append(out, sec(i))
		}
		return out
	}
	every := `{"every": "1s"}`
	const grace = 300 * time.Millisecond
	tests := []struct {
		name       string
		schedule   string
		misfire    string
		now        time.Time
		wantFire   []time.Time
		wantMissed int
		wantNext   *time.Time
	}{
		{name: "on time", schedule: every, misfire: jobspec.MisfireFireOnce, now: due.Add(10 * time.Millisecond),
			wantFire: ticks(0, 0), wantNext: ptr(sec(1))},
		{name: "ahead of its time (FireLead)", schedule: every, misfire: jobspec.MisfireFireOnce, now: due.Add(-FireLead),
			wantFire: ticks(0, 0), wantNext: ptr(sec(1))},
		{name: "late but within the grace", schedule: every, misfire: jobspec.MisfireSkip, now: due.Add(250 * time.Millisecond),
			wantFire: ticks(0, 0), wantNext: ptr(sec(1))},
		{name: "downtime, skip", schedule: every, misfire: jobspec.MisfireSkip, now: sec(3).Add(500 * time.Millisecond),
			wantMissed: 4, wantNext: ptr(sec(4))},
		{name: "downtime, fire_once runs the latest", schedule: every, misfire: jobspec.MisfireFireOnce, now: sec(3).Add(500 * time.Millisecond),
			wantFire: ticks(3, 3), wantMissed: 3, wantNext: ptr(sec(4))},
		{name: "downtime, fire_all runs each", schedule: every, misfire: jobspec.MisfireFireAll, now: sec(3).Add(500 * time.Millisecond),
			wantFire: ticks(0, 3), wantNext: ptr(sec(4))},
		{name: "downtime ending on a tick, skip keeps the one on time", schedule: every, misfire: jobspec.MisfireSkip, now: sec(3).Add(250 * time.Millisecond),
			wantFire: ticks(3, 3), wantMissed: 3, wantNext: ptr(sec(4))},
		{name: "downtime ending on a tick, fire_once adds the latest missed", schedule: every, misfire: jobspec.MisfireFireOnce, now: sec(3).Add(250 * time.Millisecond),
			wantFire: ticks(2, 3), wantMissed: 2, wantNext: ptr(sec(4))},
		{name: "long outage, skip counts every tick", schedule: every, misfire: jobspec.MisfireSkip, now: sec(1000),
			wantMissed: 1001, wantNext: ptr(sec(1001))},
		{name: "long outage, fire_once runs the latest", schedule: every, misfire: jobspec.MisfireFireOnce, now: sec(1000),
			wantFire: ticks(1000, 1000), wantMissed: 1000, wantNext: ptr(sec(1001))},
		{name: "long outage, fire_all runs the oldest 100", schedule: every, misfire: jobspec.MisfireFireAll, now: sec(1000),
			wantFire: ticks(0, MaxCatchUp-1), wantMissed: 1001 - MaxCatchUp, wantNext: ptr(sec(1001))},
		{name: "one-off on time", schedule: `{"at": "2026-12-01T00:00:01Z"}`, misfire: jobspec.MisfireSkip, now: due,
			wantFire: ticks(0, 0)},
		{name: "one-off missed, skip", schedule: `{"at": "2026-12-01T00:00:01Z"}`, misfire: jobspec.MisfireSkip, now: sec(60),
			wantMissed: 1},
		{name: "one-off missed, fire_once", schedule: `{"at": "2026-12-01T00:00:01Z"}`, misfire: jobspec.MisfireFireOnce, now: sec(60),
			wantFire: ticks(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hj := &store.Job{ID: uuid.New(), Schedule: json.RawMessage(tt.schedule), Misfire: tt.misfire, CreatedAt: anchor, ScheduleAnchor: &anchor}
			got, err := planTicks(hj, due, tt.now, grace, &schedule.Cache{})
			if err != nil {
				t.Fatalf("planTicks: %v", err)
			}
			if !equalTimes(got.fire, tt.wantFire) {
				t.Errorf("fire: got %v, want %v", got.fire, tt.wantFire)
			}
			if got.missed != tt.wantMissed {
				t.Errorf("missed: got %d, want %d", got.missed, tt.wantMissed)
			}
			switch {
			case (got.next == nil) != (tt.wantNext == nil):
				t.Errorf("next: got %v, want %v", got.next, tt.wantNext)
			case got.next != nil && !got.next.Equal(*tt.wantNext):
				t.Errorf("next: got %v, want %v", *got.next, *tt.wantNext)
			}
		})
	}
}

func TestPlanTicksRefusesAnUnreadableSchedule(t *testing.T) {
	t.Parallel()
	hj := &store.Job{ID: uuid.New(), Schedule: json.RawMessage(`{"cron": "not a cron"}`), CreatedAt: time.Now()}
	if _, err := planTicks(hj, time.Now(), time.Now(), time.Second, &schedule.Cache{}); err == nil {
		t.Fatal("got no error, want the schedule's")
	}
}

func TestOverlapState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		overlap         string
		running, queued int
		want            state.Run
	}{
		{jobspec.OverlapAllow, 3, 1, state.RunRunning},
		{jobspec.OverlapSkip, 0, 0, state.RunRunning},
		{jobspec.OverlapSkip, 1, 0, state.RunSkipped},
		{jobspec.OverlapQueue, 0, 0, state.RunRunning},
		{jobspec.OverlapQueue, 1, 0, state.RunQueued},
		{jobspec.OverlapQueue, 1, 1, state.RunSkipped},
		{jobspec.OverlapQueue, 0, 1, state.RunSkipped},
	}
	for _, tt := range tests {
		if got := overlapState(tt.overlap, tt.running, tt.queued); got != tt.want {
			t.Errorf("overlapState(%s, running %d, queued %d): got %s, want %s", tt.overlap, tt.running, tt.queued, got, tt.want)
		}
	}
}

func ptr(t time.Time) *time.Time { return &t }

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
