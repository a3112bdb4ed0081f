package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/herald-sched/herald/internal/state"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/internal/store"
)

// ticker claims due ticks and starts their runs. Every working replica runs
// one; there is no leader. A claim is a transaction that locks the due jobs'
// rows (FOR UPDATE SKIP LOCKED, so replicas split the work instead of
// waiting), creates each tick's run, task runs and deliveries, and moves
// next_fire_at on: the tick is taken if and only if its run exists, and the
// unique index on (job, scheduled_for) stops a second run of a tick whatever
// happens. One claim handles up to batch jobs with a handful of statements.
type ticker struct {
	pool    *pgxpool.Pool
	ins     Inserter
	tracer  trace.TracerProvider
	logger  *slog.Logger
	metrics *metrics.Metrics
	cache   *schedule.Cache
	now     func() time.Time // the database's clock, as this process reckons it
	grace   time.Duration    // see DefaultMisfireGrace
	poll    time.Duration    // the wait after a claim that found fewer than batch
	batch   int
	// staged is the latest nominal time of the ticks claimed so far, whose
	// deliveries wait in the queue until then (FireLead); read once run
	// has returned (see Client.stop).
	staged time.Time
}

// run claims ticks until ctx ends. A failed claim is the database, not a
// job (a job's own failure is isolated in claim): ticks that fall due
// meanwhile follow their job's misfire policy.
func (t *ticker) run(ctx context.Context) {
	pollLoop(ctx, t.logger, "claiming ticks", 0, t.poll, t.batch, t.claim)
}

// claim handles the ticks due now (and, for jobs with overlap=allow, those
// due within FireLead), and returns how many jobs it claimed.
func (t *ticker) claim(ctx context.Context) (int, error) {
	now := t.now()
	horizon := now.Add(FireLead)
	var claimed int
	var skippedRuns int
	var latest time.Time
	err := store.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		skippedRuns = 0
		q := store.New(tx)
		due, err := q.ClaimDueJobs(ctx, store.ClaimDueJobsParams{Horizon: &horizon, Now: &now, MaxRows: int32(t.batch)})
		if err != nil {
			return fmt.Errorf("claim due jobs: %w", err)
		}
		claimed = len(due)
		if claimed == 0 {
			return nil
		}
		solo := soloRuns{trigger: TriggerSchedule, clock: t.now, solos: solosOf(t.ins)}
		adv := advanceJobs{}
		for i := range due {
			hj := &due[i]
			if sched, ok := deviceLocal(hj); ok {
				plan, skipped, err := t.claimLocal(ctx, tx, hj, sched, now)
				if err != nil {
					return err
				}
				skippedRuns += skipped
				adv.add(hj.ID, plan, skipped)
				continue
			}
			plan, err := planTicks(hj, *hj.NextFireAt, now, t.grace, t.cache)
			if err != nil {
				// A schedule that cannot be read cannot tick: stop it,
				// loudly, rather than claim it again and again.
				t.logger.ErrorContext(ctx, "job schedule unreadable; no more ticks", slog.String("job_id", hj.ID.String()), slog.Any("error", err))
				plan = tickPlan{}
			}
			skipped := 0
			for _, at := range plan.fire {
				if at.After(latest) {
					latest = at
				}
				if hj.Overlap == jobspec.OverlapAllow {
					if _, ok := solo.add(t.tracer, hj, at, trace.SpanContext{}, nil); ok {
						continue
					}
				}
				wasSkipped, err := t.startIsolated(ctx, tx, hj, at, nil)
				if err != nil {
					return err
				}
				if wasSkipped {
					skipped++
				}
			}
			skippedRuns += skipped
			if plan.missed > 0 {
				t.logger.InfoContext(ctx, "missed ticks", slog.String("job_id", hj.ID.String()),
					slog.Int("missed", plan.missed), slog.String("misfire", hj.Misfire))
			}
			adv.add(hj.ID, plan, skipped)
		}
		if _, err := solo.create(ctx, tx, t.ins); err != nil {
			return err
		}
		if err := q.AdvanceJobs(ctx, store.AdvanceJobsParams(adv)); err != nil {
			return fmt.Errorf("advance jobs: %w", err)
		}
		return nil
	})
	if err != nil {
		return claimed, err
	}
	if latest.After(t.staged) {
		t.staged = latest
	}
	for range skippedRuns {
		t.metrics.RunEnded(state.RunSkipped)
	}
	if claimed > 0 {
		t.logger.DebugContext(ctx, "claimed ticks", slog.Int("jobs", claimed), slog.Duration("took", t.now().Sub(now)))
	}
	return claimed, nil
}

// advanceJobs collects the jobs a claim advances (AdvanceJobs).
type advanceJobs store.AdvanceJobsParams

func (a *advanceJobs) add(id uuid.UUID, plan tickPlan, skipped int) {
	a.Ids = append(a.Ids, id)
	a.HasNext = append(a.HasNext, plan.next != nil)
	next := time.Time{}
	if plan.next != nil {
		next = *plan.next
	}
	a.NextFireAts = append(a.NextFireAts, next)
	a.Missed = append(a.Missed, int64(plan.missed))
	a.Skipped = append(a.Skipped, int64(skipped))
}

// deviceLocal returns hj's schedule when it fires in each device's zone.
func deviceLocal(hj *store.Job) (*jobspec.Schedule, bool) {
	if len(hj.Schedule) == 0 || !bytes.Contains(hj.Schedule, []byte(`"device"`)) {
		return nil, false // the common case, without decoding
	}
	var sched jobspec.Schedule
	if err := json.Unmarshal(hj.Schedule, &sched); err != nil || !sched.DeviceLocal() {
		return nil, false
	}
	return &sched, true
}

// startIsolated is startTick under a savepoint: a job whose tick cannot
// start (a definition that no longer decodes) loses that tick, with an
// error in the log, instead of failing the claim of every job with it.
// Only a failure of the database itself is returned.
func (t *ticker) startIsolated(ctx context.Context, tx pgx.Tx, hj *store.Job, at time.Time, zones []string) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	skipped, err := startTick(ctx, sp, t.ins, hj, at, zones)
	if err == nil {
		return skipped, sp.Commit(ctx)
	}
	if rbErr := sp.Rollback(ctx); rbErr != nil || ctx.Err() != nil {
		return false, errors.Join(err, rbErr, ctx.Err())
	}
	t.logger.ErrorContext(ctx, "tick not started", slog.String("job_id", hj.ID.String()),
		slog.Time("scheduled_for", at), slog.Any("error", err))
	return false, nil
}

// overlapState is the state of a tick's run under the job's overlap policy,
// given its runs still running and queued: running when nothing is in
// progress or overlap is allow, queued (overlap queue, at most one waiting),
// else skipped.
func overlapState(overlap string, running, queued int) state.Run {
	switch {
	case overlap == jobspec.OverlapAllow || running+queued == 0:
		return state.RunRunning
	case overlap == jobspec.OverlapQueue && queued == 0:
		return state.RunQueued
	default:
		return state.RunSkipped
	}
}

// startTick starts the run of the tick at t, or, when an earlier run of the
// job is still in progress, queues or skips it per the overlap policy. It
// reports whether the tick was skipped. zones, for the tick of a
// device-local schedule, are the zones whose local tick it is.
func startTick(ctx context.Context, tx pgx.Tx, ins Inserter, hj *store.Job, t time.Time, zones []string) (bool, error) {
	st := state.RunRunning
	if hj.Overlap != jobspec.OverlapAllow {
		active, err := store.New(tx).CountActiveRuns(ctx, hj.ID)
		if err != nil {
			return false, fmt.Errorf("count active runs: %w", err)
		}
		st = overlapState(hj.Overlap, int(active.Running), int(active.Queued))
	}
	run, err := createRun(ctx, tx, hj, TriggerSchedule, st, t, nil, zones)
	if errors.Is(err, ErrTickTaken) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if st == state.RunRunning {
		ctx, span := startRunSpan(ctx, tracerOf(ins), hj.ID, run.ID, TriggerSchedule, t)
		defer span.End()
		return false, beginRun(ctx, tx, ins, run, hj)
	}
	return st == state.RunSkipped, nil
}

// stagedMargin is how long after the last staged tick's time a stopping
// process keeps fetching: River's fetch has taken its deliveries by then.
const stagedMargin = 100 * time.Millisecond

// stagedFetchWait bounds how long after stagedMargin a stopping process
// waits for River to take deliveries that are due (a busy machine's fetch
// can be late): past it, they are left in the queue for the other replicas.
const stagedFetchWait = 2 * time.Second

// awaitStaged returns once the ticks this ticker claimed ahead of their
// time are due (plus stagedMargin) and River has taken the deliveries due
// by then (up to stagedFetchWait more), so that a stopping process's River
// sends them on time instead of leaving them in the queue for whoever
// starts next; or when ctx ends. Call it after run returned.
func (t *ticker) awaitStaged(ctx context.Context) error {
	wait := t.staged.Add(stagedMargin).Sub(t.now())
	if t.staged.IsZero() || wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	deadline := time.Now().Add(stagedFetchWait)
	for time.Now().Before(deadline) {
		waiting, err := store.DueDeliveries(ctx, t.pool, QueueDeliver, t.staged)
		if err != nil || !waiting {
			return nil // the database gone: nothing more to wait for
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
