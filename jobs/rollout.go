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
	"github.com/riverqueue/river/rivertype"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/rollout"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// QueueRollout is the River queue of rollout steps.
const QueueRollout = "herald_rollout"

// rolloutWorkers is how many rollout steps a process runs at once.
const rolloutWorkers = 10

// rolloutCheck is how often a running rollout looks at its members: a wave
// starts at most this long after the previous one settled (plus its
// pause), and a bound crossed aborts at most this long after.
const rolloutCheck = time.Second

// RolloutArgs is a step of one fleet task's rollout: a River job per
// rollout that runs, looks, decides (internal/rollout) and snoozes until it
// looks again, done when the rollout is done or held.
type RolloutArgs struct {
	// TaskRunID is the fleet task's own task run.
	TaskRunID uuid.UUID `json:"task_run_id"`
}

// Kind implements river.JobArgs.
func (RolloutArgs) Kind() string { return "herald.rollout" }

// InsertOpts implements river.JobArgsWithInsertOpts. There is one step job
// per rollout at a time, not by River's uniqueness (a completed job would
// keep a resume from enqueueing another) but by the rollout's stepper: a
// step job the rollout does not name stops.
func (RolloutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRollout, MaxAttempts: 25}
}

// RolloutWorker runs rollout steps. Each step is one transaction under the
// rollout's row lock: what it reads, what it decides and what it writes
// (members sent, cancelled, the fleet task settled, the DAG moved on) go
// together, so that a wave starts once whatever the number of replicas.
// A replica dying mid-step leaves nothing half done: its step job is
// reclaimed (Reclaim) and runs again.
type RolloutWorker struct {
	river.WorkerDefaults[RolloutArgs]
	pool     *pgxpool.Pool
	client   Inserter
	recorder *recorder
	now      func() time.Time
	logger   *slog.Logger
}

// Work runs one step, then snoozes until the next look.
func (w *RolloutWorker) Work(ctx context.Context, job *river.Job[RolloutArgs]) error {
	var next time.Duration
	var done bool
	err := store.InTx(ctx, w.pool, func(tx pgx.Tx) error {
		var err error
		next, done, err = w.step(ctx, tx, job.ID, job.Args.TaskRunID, releasedBy(ctx, job.Metadata))
		return err
	})
	if err != nil {
		return laterIfUnavailable(ctx, err)
	}
	if done {
		return nil
	}
	return river.JobSnooze(next)
}

// Timeout implements river.Worker: a step is a few statements.
func (w *RolloutWorker) Timeout(*river.Job[RolloutArgs]) time.Duration { return time.Minute }

// step looks at the rollout and applies what rollout.Decide says, in tx. It
// returns when to look again, or done: the rollout is done, or held until a
// resume starts a new step job.
func (w *RolloutWorker) step(ctx context.Context, tx pgx.Tx, stepper int64, id uuid.UUID, span deliveryTrace) (time.Duration, bool, error) {
	q := store.New(tx)
	ro, err := q.LockRollout(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, true, nil // its run was deleted
	}
	if err != nil {
		return 0, false, fmt.Errorf("lock rollout: %w", err)
	}
	if ro.Status == string(rollout.Done) || ro.Stepper == nil || *ro.Stepper != stepper {
		return 0, true, nil // done, or another step job steps it now
	}
	if ro.TaskState.Final() {
		// The fleet task ended otherwise (its run cancelled or timed out).
		return 0, true, w.save(ctx, q, &ro, rollout.Done, ro.Reason)
	}
	var task jobspec.Task
	if err := json.Unmarshal(ro.Spec, &task); err != nil {
		return 0, false, fmt.Errorf("decode fleet task %s: %w", id, err)
	}
	pol := task.Rollout
	if pol == nil {
		pol = &jobspec.Rollout{}
	}
	for range 3 { // a decision's effect may call for another at once (an abort with nothing in flight finishes)
		snap, err := w.snapshot(ctx, q, &ro, pol)
		if err != nil {
			return 0, false, err
		}
		d := rollout.Decide(snap)
		if d.Settled {
			now := snap.Now
			ro.SettledAt = &now
		}
		switch d.Action {
		case rollout.Hold:
			return 0, true, w.save(ctx, q, &ro, rollout.Status(ro.Status), ro.Reason)
		case rollout.Wait:
			if err := w.save(ctx, q, &ro, rollout.Status(ro.Status), ro.Reason); err != nil {
				return 0, false, err
			}
			if !d.Next.IsZero() {
				return max(d.Next.Sub(snap.Now), 0), false, nil
			}
			return rolloutCheck, false, nil
		case rollout.StartWave:
			ro.Started, ro.SettledAt = int32(d.Wave+1), nil
			if err := sendWaves(ctx, tx, w.client, &ro, d.Wave, span); err != nil {
				return 0, false, err
			}
			if err := w.save(ctx, q, &ro, rollout.Running, nil); err != nil {
				return 0, false, err
			}
			w.logger.InfoContext(ctx, "rollout wave started", slog.String("task_run", id.String()),
				slog.Int("wave", d.Wave+1), slog.Int("waves", len(ro.Sizes)), slog.Int("devices", int(ro.Sizes[d.Wave])))
			return rolloutCheck, false, nil
		case rollout.Abort:
			reason := "rollout aborted: " + d.Reason
			if _, err := q.CancelMembers(ctx, store.CancelMembersParams{FleetOf: id, Reason: reason}); err != nil {
				return 0, false, fmt.Errorf("cancel members: %w", err)
			}
			if err := w.save(ctx, q, &ro, rollout.Aborted, &reason); err != nil {
				return 0, false, err
			}
			w.logger.WarnContext(ctx, "rollout aborted", slog.String("task_run", id.String()), slog.String("reason", d.Reason))
		case rollout.Finish:
			return 0, true, w.finish(ctx, tx, &ro, d, snap, span)
		}
	}
	return rolloutCheck, false, nil
}

// snapshot reads the rollout's members by wave and state, and the devices'
// circuits and liveness when its bounds need them.
func (w *RolloutWorker) snapshot(ctx context.Context, q *store.Queries, ro *store.LockRolloutRow, pol *jobspec.Rollout) (rollout.Snapshot, error) {
	s := rollout.Snapshot{
		Waves:   make([]rollout.Counts, len(ro.Sizes)),
		Started: int(ro.Started),
		Status:  rollout.Status(ro.Status),
		Since:   rollout.Baseline{Failed: int(ro.BaseFailed), Targeted: int(ro.BaseTargeted)},
		Now:     w.now(),
	}
	if ro.SettledAt != nil {
		s.SettledAt = *ro.SettledAt
	}
	if pol.Pause != nil {
		s.Pause = pol.Pause.Std()
	}
	if pol.AbortIf != nil {
		s.AbortIf = *pol.AbortIf
	}
	s.RequireDevices = pol.RequireDevices
	rows, err := q.RolloutCounts(ctx, ro.TaskRunID)
	if err != nil {
		return s, fmt.Errorf("count members: %w", err)
	}
	for _, r := range rows {
		if int(r.Wave) >= len(s.Waves) {
			continue
		}
		s.Waves[r.Wave].Add(state.Task(r.State), int(r.N))
	}
	if s.Status == rollout.Running && s.AbortIf.OpenCircuits != nil {
		n, err := q.FleetOpenCircuits(ctx, ro.TaskRunID)
		if err != nil {
			return s, fmt.Errorf("count open circuits: %w", err)
		}
		s.OpenCircuits = int(n)
	}
	if s.Status == rollout.Running && s.AbortIf.Offline != nil {
		n, err := q.FleetGoneOffline(ctx, store.FleetGoneOfflineParams{FleetOf: ro.TaskRunID, Since: &ro.CreatedAt})
		if err != nil {
			return s, fmt.Errorf("count devices gone offline: %w", err)
		}
		s.Offline = int(n)
	}
	return s, nil
}

// save writes the rollout's status and progress.
func (w *RolloutWorker) save(ctx context.Context, q *store.Queries, ro *store.LockRolloutRow, st rollout.Status, reason *string) error {
	ro.Status, ro.Reason = string(st), reason
	err := q.UpdateRollout(ctx, store.UpdateRolloutParams{
		TaskRunID: ro.TaskRunID, Status: ro.Status, Started: ro.Started, Reason: reason,
		SettledAt: ro.SettledAt, BaseFailed: ro.BaseFailed, BaseTargeted: ro.BaseTargeted,
	})
	if err != nil {
		return fmt.Errorf("save rollout: %w", err)
	}
	return nil
}

// FleetResult is what a fleet task keeps as its result, for the tasks
// downstream ({{ tasks.<id>.succeeded }}, tasks.<id>.body.failed).
type FleetResult struct {
	// Devices counts the fleet's members.
	Devices int `json:"devices"`
	// Succeeded, Failed (expired included) and Cancelled count the
	// members by how they ended.
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// finish ends the rollout and settles its fleet task, moving the DAG on as
// the recorder does for a task that made a request.
func (w *RolloutWorker) finish(ctx context.Context, tx pgx.Tx, ro *store.LockRolloutRow, d rollout.Decision, snap rollout.Snapshot, span deliveryTrace) error {
	q := store.New(tx)
	summary := d.Reason // how it ended, kept as its reason
	if err := w.save(ctx, q, ro, rollout.Done, &summary); err != nil {
		return err
	}
	var res FleetResult
	for _, c := range snap.Waves {
		res.Devices += c.Total()
		res.Succeeded += c.Succeeded
		res.Failed += c.Failed
		res.Cancelled += c.Cancelled
	}
	body, err := json.Marshal(res)
	if err != nil {
		return err
	}
	tr, err := q.FleetTask(ctx, ro.TaskRunID)
	if err != nil {
		return fmt.Errorf("read fleet task: %w", err)
	}
	outcome, reason := state.TaskSucceeded, d.Reason
	if !d.Succeeded {
		outcome = state.TaskFailed
	}
	item := &finishItem{
		tr: &store.BeginAttemptsRow{
			ID: tr.ID, RunID: tr.RunID, TaskID: tr.TaskID, Spec: tr.Spec, ChildIds: tr.ChildIds,
			KeepResult: tr.KeepResult, JobID: tr.JobID, ScheduledFor: tr.ScheduledFor, Trigger: tr.Trigger, Overlap: tr.Overlap,
		},
		rec:       attemptRecord{outcome: outcome, err: reason, res: &dispatch.Result{StatusCode: 200, Body: body}},
		flow:      flowLimits(ro.Rate, ro.MaxInFlight),
		span:      span,
		noAttempt: true,
	}
	_, err = w.recorder.write(ctx, tx, []*finishItem{item})
	return err
}

// sendWaves sends the members waiting in the waves up to wave: pending, each
// with its delivery, in tx.
func sendWaves(ctx context.Context, tx pgx.Tx, ins Inserter, ro *store.LockRolloutRow, wave int, span deliveryTrace) error {
	sent, err := store.New(tx).SendWaves(ctx, store.SendWavesParams{FleetOf: ro.TaskRunID, Upto: int32(wave)})
	if err != nil {
		return fmt.Errorf("send wave: %w", err)
	}
	// A run created ahead of its time (a tick's FireLead) sends nothing
	// before it.
	target := flowTarget{jobID: ro.JobID, flow: flowLimits(ro.Rate, ro.MaxInFlight), startAt: ro.ScheduledFor,
		clock: clockOf(ins), trace: deliveryTrace{run: span.run}.metadata()}
	deliveries := make([]river.InsertManyParams, len(sent))
	for i, m := range sent {
		var member jobspec.Task
		if err := json.Unmarshal(m.Spec, &member); err != nil {
			return fmt.Errorf("decode member %s: %w", m.ID, err)
		}
		deliveries[i] = deliveryParams(m.ID, &member, target, 0, int(m.Round))
	}
	return enqueueDeliveries(ctx, tx, ins, deliveries)
}

var _ rivertype.JobArgs = RolloutArgs{}
