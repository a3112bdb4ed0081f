package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
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

// FireArgs is one tick of a job's schedule: at FireAt, start a run of JobID.
type FireArgs struct {
	// JobID is the job to run.
	JobID uuid.UUID `json:"job_id"`
	// FireAt is the tick's nominal time (UTC), the run's scheduled_for.
	FireAt time.Time `json:"fire_at"`
	// Seq is the job's fire_seq when the tick was enqueued; a tick of an
	// older sequence (the job was updated, paused or resumed) is ignored.
	Seq int64 `json:"seq"`
}

// Kind is the River job kind of a tick.
func (FireArgs) Kind() string { return "herald.fire" }

// InsertOpts puts ticks on the fire queue, once per (job, tick, sequence).
func (FireArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueFire, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// FireWorker handles a due tick: it starts the tick's run (and catch-up runs
// for missed ticks, per the job's misfire policy), and enqueues the next tick.
type FireWorker struct {
	river.WorkerDefaults[FireArgs]

	pool    *pgxpool.Pool
	logger  *slog.Logger
	grace   time.Duration // see DefaultMisfireGrace
	cache   schedule.Cache
	metrics *metrics.Metrics
}

// Work does it all in the transaction that completes the tick, with the job
// row locked: the runs exist if and only if the tick is done, and exactly one
// next tick is enqueued. A job deleted, paused or re-armed since the tick was
// enqueued gets nothing.
func (w *FireWorker) Work(ctx context.Context, job *river.Job[FireArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		hj, err := q.LockJob(ctx, job.Args.JobID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("lock job: %w", err)
		}
		if err == nil && isCurrentTick(&hj, &job.Args) {
			if err := w.fire(ctx, tx, client, &hj, job.Args.FireAt); err != nil {
				return err
			}
		}
		_, err = river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
}

func isCurrentTick(hj *store.Job, args *FireArgs) bool {
	return hj.DeletedAt == nil && !hj.Paused && hj.FireSeq == args.Seq &&
		hj.NextFireAt != nil && hj.NextFireAt.Equal(args.FireAt)
}

func (w *FireWorker) fire(ctx context.Context, tx pgx.Tx, ins Inserter, hj *store.Job, due time.Time) error {
	plan, err := planTicks(hj, due, time.Now(), w.grace, &w.cache)
	if err != nil {
		return err
	}
	skipped := 0
	for _, t := range plan.fire {
		wasSkipped, err := startTick(ctx, tx, ins, hj, t)
		if err != nil {
			return err
		}
		if wasSkipped {
			skipped++
			w.metrics.RunEnded(RunSkipped)
		}
	}
	if plan.missed > 0 {
		w.logger.InfoContext(ctx, "missed ticks", slog.String("job_id", hj.ID.String()),
			slog.Int("missed", plan.missed), slog.String("misfire", hj.Misfire))
	}
	q := store.New(tx)
	if err := q.AdvanceJob(ctx, store.AdvanceJobParams{
		ID: hj.ID, NextFireAt: plan.next, Missed: int64(plan.missed), Skipped: int64(skipped),
	}); err != nil {
		return fmt.Errorf("advance job: %w", err)
	}
	if plan.next != nil {
		return ScheduleFire(ctx, tx, ins, hj, *plan.next)
	}
	return nil
}

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

	ticks := []time.Time{due}
	var plan tickPlan
	if rec != nil {
		later, truncated := schedule.Between(rec, due, now, MaxCatchUp)
		ticks = append(ticks, later...)
		if truncated {
			// More ticks passed than are worth listing: count the rest and
			// keep the latest, all missed (the outage outlasted any grace).
			n, latest := countBetween(rec, ticks[len(ticks)-1], now)
			return planMissed(hj.Misfire, ticks, n, latest, rec.Next(now)), nil
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
	case hj.Misfire == jobspec.MisfireSkip:
		plan.fire, plan.missed = onTime, len(late)
	case hj.Misfire == jobspec.MisfireFireAll:
		plan.fire = ticks
	default: // fire_once
		plan.fire = append([]time.Time{late[len(late)-1]}, onTime...)
		plan.missed = len(late) - 1
	}
	return plan, nil
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

// startTick starts the run of the tick at t, or, when an earlier run of the
// job is still in progress, queues or skips it per the overlap policy. It
// reports whether the tick was skipped.
func startTick(ctx context.Context, tx pgx.Tx, ins Inserter, hj *store.Job, t time.Time) (bool, error) {
	state := RunRunning
	if hj.Overlap != jobspec.OverlapAllow {
		active, err := store.New(tx).CountActiveRuns(ctx, hj.ID)
		if err != nil {
			return false, fmt.Errorf("count active runs: %w", err)
		}
		switch {
		case active.Running+active.Queued == 0:
		case hj.Overlap == jobspec.OverlapQueue && active.Queued == 0:
			state = RunQueued
		default:
			state = RunSkipped
		}
	}
	run, err := createRun(ctx, tx, hj.ID, TriggerSchedule, state, t)
	if errors.Is(err, ErrTickTaken) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if state == RunRunning {
		return false, beginRun(ctx, tx, ins, run, hj)
	}
	return state == RunSkipped, nil
}
