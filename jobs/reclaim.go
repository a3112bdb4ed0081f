package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/store"
)

// Reclaim puts back in the queue, in tx, the deliveries the replica dead
// was working when it died (internal/replica declares it dead in the same
// transaction). It is what herald writes River's table directly for
// (internal/store/river.go holds every such statement); River's own
// stuck-job rescue (--rescue-after) stays as the last resort for a replica
// that heartbeats but is stuck.
//
// For each of the dead replica's running delivery jobs (River appends the
// fetching client's id, which is the replica's id, to attempted_by):
//   - the attempt it had begun is recorded as lost, and its task run goes
//     back to pending; the attempt does not count against max_attempts;
//   - the River job is cancelled with the reason, and a new one is inserted
//     for the same task run (so the same webhook-id), numbering attempts on
//     from the last one made, and staged again for its nominal time when it
//     had one. A new job rather than the old one made available again: the
//     dead replica's River completer, should the process wake up, completes
//     only rows that are still running, so it can never complete the
//     successor's work;
//   - the max_in_flight leases the replica held are released. Host slots
//     live in its memory and died with it.
//
// The dead replica's other running jobs, short ones (rollout steps,
// run-end callbacks), are cancelled and enqueued again with the same
// arguments (reclaimSteps): a rollout's new step job becomes its stepper.
//
// It returns how many jobs it moved.
func (c *Client) Reclaim(ctx context.Context, tx pgx.Tx, dead string) (int, error) {
	steps, err := c.reclaimSteps(ctx, tx, dead)
	if err != nil {
		return 0, err
	}
	n, err := c.reclaimDeliveries(ctx, tx, dead)
	return n + steps, err
}

// reclaimDeliveries is Reclaim for the dead replica's deliveries.
func (c *Client) reclaimDeliveries(ctx context.Context, tx pgx.Tx, dead string) (int, error) {
	held, err := store.HeldJobs(ctx, tx, []string{QueueDeliver}, (DeliverArgs{}).Kind(), dead)
	if err != nil {
		return 0, err
	}
	q := store.New(tx)
	if _, err := q.ReleaseHolderLeases(ctx, dead); err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	if _, err := q.ReleaseHolderDeviceLeases(ctx, dead); err != nil {
		return 0, fmt.Errorf("release device leases: %w", err)
	}
	if _, err := q.WithdrawHolderDeviceTasks(ctx, dead); err != nil {
		return 0, fmt.Errorf("withdraw device offers: %w", err)
	}
	if len(held) == 0 {
		return 0, nil
	}

	args := make([]DeliverArgs, len(held))
	lose := store.LoseAttemptsParams{Error: fmt.Sprintf(
		"lost: replica %s stopped heartbeating while holding this attempt (sent or not); delivered again with the same webhook-id", dead)}
	jobIDs := make([]int64, len(held))
	for i := range held {
		h := &held[i]
		if err := json.Unmarshal(h.Args, &args[i]); err != nil {
			return 0, fmt.Errorf("decode delivery %d: %w", h.ID, err)
		}
		jobIDs[i] = h.ID
		lose.Ids = append(lose.Ids, args[i].TaskRunID)
		lose.Attempts = append(lose.Attempts, int32(args[i].AttemptBase+int(h.Attempt)))
		lose.StartedAts = append(lose.StartedAts, h.AttemptedAt)
	}
	states, err := q.LoseAttempts(ctx, lose)
	if err != nil {
		return 0, fmt.Errorf("record lost attempts: %w", err)
	}
	byTaskRun := make(map[uuid.UUID]store.LoseAttemptsRow, len(states))
	for _, s := range states {
		byTaskRun[s.ID] = s
	}
	if err := store.CancelRiverJobs(ctx, tx, jobIDs, "reclaimed from replica "+dead+", which stopped heartbeating"); err != nil {
		return 0, err
	}

	now := clockOf(c)()
	again := make([]river.InsertManyParams, 0, len(held))
	for i := range held {
		h, a := &held[i], args[i]
		tr, ok := byTaskRun[a.TaskRunID]
		if !ok {
			continue // the task run is gone (its job deleted with its history): nothing to deliver
		}
		again = append(again, retake(a, h, tr, now))
	}
	if err := enqueueDeliveries(ctx, tx, c, again); err != nil {
		return 0, err
	}
	return len(held), nil
}

// retake is the delivery that continues the reclaimed delivery a, whose
// River job h was lost with its replica, for the task run tr as it was.
func retake(a DeliverArgs, h *store.RiverJob, tr store.LoseAttemptsRow, now time.Time) river.InsertManyParams {
	current := a.AttemptBase + int(h.Attempt) // the attempt the job was making
	// Attempts of this job before the current one were made and counted;
	// the current one counts only if its outcome was recorded (the replica
	// died between its record and River's completion), not if it was lost
	// or never begun.
	spent := a.Spent + int(h.Attempt) - 1
	if !tr.Lost && int(tr.Attempts) >= current {
		spent++
	}
	a.AttemptBase = max(int(tr.Attempts), current-1)
	a.Spent = spent
	var at time.Time
	if stage := a.NotBefore.Add(-StageLead); stage.After(now) {
		at = stage // staged again for its nominal time
	}
	return river.InsertManyParams{
		Args:       a,
		InsertOpts: &river.InsertOpts{Queue: QueueDeliver, MaxAttempts: int(h.MaxAttempts), ScheduledAt: at, Metadata: h.Metadata},
	}
}

// reclaimSteps cancels the dead replica's running rollout steps and
// run-end callbacks and enqueues each again with the same arguments; a
// rollout's new step job becomes its stepper (rollouts.stepper), so that
// the dead one, should its process wake up, stops at its next step.
func (c *Client) reclaimSteps(ctx context.Context, tx pgx.Tx, dead string) (int, error) {
	jobs, err := store.HeldJobs(ctx, tx, []string{QueueRollout, QueueCallback}, "", dead)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	ids := make([]int64, len(jobs))
	for i := range jobs {
		ids[i] = jobs[i].ID
	}
	if err := store.CancelRiverJobs(ctx, tx, ids, "reclaimed from replica "+dead+", which stopped heartbeating"); err != nil {
		return 0, err
	}
	for _, h := range jobs {
		switch h.Kind {
		case (RolloutArgs{}).Kind():
			var a RolloutArgs
			if err := json.Unmarshal(h.Args, &a); err != nil {
				return 0, fmt.Errorf("decode rollout step %d: %w", h.ID, err)
			}
			if err := newStepper(ctx, tx, c, a.TaskRunID, traceOf(h.Metadata)); err != nil {
				return 0, err
			}
		case (CallbackArgs{}).Kind():
			var a CallbackArgs
			if err := json.Unmarshal(h.Args, &a); err != nil {
				return 0, fmt.Errorf("decode callback %d: %w", h.ID, err)
			}
			if _, err := c.InsertTx(ctx, tx, a, &river.InsertOpts{MaxAttempts: int(h.MaxAttempts), Metadata: h.Metadata}); err != nil {
				return 0, fmt.Errorf("enqueue callback again: %w", err)
			}
		}
	}
	return len(jobs), nil
}
