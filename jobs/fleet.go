package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/rollout"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// placeholderDevice stands for a member's device in the definition shared
// by a fleet's members; CreateMembers puts each member's own.
const placeholderDevice = "00000000-0000-0000-0000-000000000000"

// startFleet starts the fleet task taskRunID (task, of job jobID's run
// runID) in tx, instead of a delivery: its members are the devices its
// selector matches now (fixed from then on), in the job's order
// (rollout.Order), split into waves (rollout.Plan), each waiting for its
// wave; the fleet task runs, and its rollout's first step is enqueued. A
// fleet task that already has its rollout (its run retried) is restarted
// instead: its failed and cancelled members go again.
func startFleet(ctx context.Context, tx pgx.Tx, ins Inserter, runID, jobID, taskRunID uuid.UUID, task *jobspec.Task, span deliveryTrace) error {
	q := store.New(tx)
	if _, err := q.LockRollout(ctx, taskRunID); err == nil {
		return restartFleet(ctx, tx, ins, taskRunID, []string{string(state.TaskFailed), string(state.TaskExpired), string(state.TaskCancelled), string(state.TaskUpstreamFailed)}, span)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read rollout: %w", err)
	}
	selector, err := json.Marshal(task.Target.Fleet.Selector)
	if err != nil {
		return err
	}
	devices, err := q.FleetDevices(ctx, store.FleetDevicesParams{RunID: runID, Selector: selector})
	if err != nil {
		return fmt.Errorf("find the fleet's devices: %w", err)
	}
	return startFleetOf(ctx, tx, ins, runID, jobID, taskRunID, task, devices, span)
}

// startFleetOf starts the fleet task taskRunID with the given devices as
// its members (startFleet's selector match, or the devices whose local
// tick it is), in tx.
func startFleetOf(ctx context.Context, tx pgx.Tx, ins Inserter, runID, jobID, taskRunID uuid.UUID, task *jobspec.Task, devices []uuid.UUID, span deliveryTrace) error {
	q := store.New(tx)
	rollout.Order(jobID, devices)
	var waves []rollout.Wave
	if task.Rollout != nil {
		waves = task.Rollout.Waves
	}
	sizes := rollout.Plan(waves, len(devices))
	member := *task
	member.Target = &jobspec.Target{Device: placeholderDevice, Path: task.Target.Path}
	member.Rollout = nil
	spec, err := json.Marshal(&member)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(devices))
	waveOf := make([]int32, len(devices))
	i := 0
	for w, n := range sizes {
		for range n {
			ids[i], waveOf[i] = uuid.Must(uuid.NewV7()), int32(w)
			i++
		}
	}
	if len(devices) > 0 {
		if err := q.CreateMembers(ctx, store.CreateMembersParams{
			Ids: ids, RunID: runID, TaskID: task.ID, Spec: spec, FleetOf: taskRunID, DeviceIds: devices, Waves: waveOf,
		}); err != nil {
			return fmt.Errorf("create the fleet's members: %w", err)
		}
	}
	sz := make([]int32, len(sizes))
	for i, n := range sizes {
		sz[i] = int32(n)
	}
	if err := q.CreateRollout(ctx, store.CreateRolloutParams{TaskRunID: taskRunID, RunID: runID, Sizes: sz}); err != nil {
		return fmt.Errorf("create rollout: %w", err)
	}
	if err := q.StartFleetTask(ctx, taskRunID); err != nil {
		return fmt.Errorf("start fleet task: %w", err)
	}
	return newStepper(ctx, tx, ins, taskRunID, span)
}

// newStepper enqueues the step job of a rollout, and names it the
// rollout's stepper: a step job it replaces stops at its next step.
func newStepper(ctx context.Context, tx pgx.Tx, ins Inserter, taskRunID uuid.UUID, span deliveryTrace) error {
	res, err := ins.InsertTx(ctx, tx, RolloutArgs{TaskRunID: taskRunID}, &river.InsertOpts{Metadata: deliveryTrace{run: span.run}.metadata()})
	if err != nil {
		return fmt.Errorf("enqueue rollout step: %w", err)
	}
	if err := store.New(tx).SetStepper(ctx, store.SetStepperParams{TaskRunID: taskRunID, Stepper: &res.Job.ID}); err != nil {
		return fmt.Errorf("name the rollout's stepper: %w", err)
	}
	return nil
}

// restartFleet sends again, in tx, the members of a fleet task in states:
// those in waves already started at once, the others with their waves;
// the failures before count no more against its bounds.
func restartFleet(ctx context.Context, tx pgx.Tx, ins Inserter, taskRunID uuid.UUID, states []string, span deliveryTrace) error {
	q := store.New(tx)
	ro, err := q.LockRollout(ctx, taskRunID)
	if err != nil {
		return fmt.Errorf("lock rollout: %w", err)
	}
	if _, err := q.ReviveMembers(ctx, store.ReviveMembersParams{FleetOf: taskRunID, States: states}); err != nil {
		return fmt.Errorf("revive members: %w", err)
	}
	var task jobspec.Task
	if err := json.Unmarshal(ro.Spec, &task); err != nil {
		return fmt.Errorf("decode fleet task %s: %w", taskRunID, err)
	}
	if ro.Started > 0 {
		if err := sendWaves(ctx, tx, ins, &ro, int(ro.Started)-1, span); err != nil {
			return err
		}
	}
	counts, err := q.RolloutCounts(ctx, taskRunID)
	if err != nil {
		return fmt.Errorf("count members: %w", err)
	}
	ro.BaseFailed, ro.BaseTargeted = 0, 0
	for _, c := range counts {
		if c.Wave < ro.Started {
			ro.BaseTargeted += c.N
			if st := state.Task(c.State); st.Failure() {
				ro.BaseFailed += c.N
			}
		}
	}
	if err := q.UpdateRollout(ctx, store.UpdateRolloutParams{
		TaskRunID: taskRunID, Status: string(rollout.Running), Started: ro.Started, Reason: nil,
		SettledAt: nil, BaseFailed: ro.BaseFailed, BaseTargeted: ro.BaseTargeted,
	}); err != nil {
		return fmt.Errorf("save rollout: %w", err)
	}
	if err := q.StartFleetTask(ctx, taskRunID); err != nil {
		return fmt.Errorf("start fleet task: %w", err)
	}
	return newStepper(ctx, tx, ins, taskRunID, span)
}

// ErrNoRollout is a pause or resume of a run without a rollout in a state
// it applies to.
var ErrNoRollout = errors.New("the run has no rollout to pause or resume")

// PauseRollouts holds, in tx, the running rollouts of run runID: no wave
// starts, and members enqueued but not begun wait (in flight ones finish)
// until ResumeRollouts. It returns the run.
func PauseRollouts(ctx context.Context, tx pgx.Tx, runID uuid.UUID) (*store.Run, error) {
	run, err := lockRun(ctx, tx, runID)
	if err != nil {
		return nil, err
	}
	q := store.New(tx)
	ros, err := q.RolloutsOfRun(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read rollouts: %w", err)
	}
	paused := 0
	for _, r := range ros {
		if r.Status != string(rollout.Running) || run.State != state.RunRunning {
			continue
		}
		ro, err := q.LockRollout(ctx, r.TaskRunID)
		if err != nil {
			return nil, fmt.Errorf("lock rollout: %w", err)
		}
		if ro.Status != string(rollout.Running) || ro.TaskState.Final() {
			continue
		}
		if _, err := q.HoldMembers(ctx, r.TaskRunID); err != nil {
			return nil, fmt.Errorf("hold members: %w", err)
		}
		if err := q.UpdateRollout(ctx, store.UpdateRolloutParams{
			TaskRunID: r.TaskRunID, Status: string(rollout.Paused), Started: ro.Started, Reason: nil,
			SettledAt: ro.SettledAt, BaseFailed: ro.BaseFailed, BaseTargeted: ro.BaseTargeted,
		}); err != nil {
			return nil, fmt.Errorf("save rollout: %w", err)
		}
		paused++
	}
	if paused == 0 {
		return nil, ErrNoRollout
	}
	return run, nil
}

// ResumeRollouts continues, in tx, the paused or aborted rollouts of run
// runID: what a pause held, or an abort cancelled, is sent again (at once
// in the waves already started), the next waves follow, and the bounds
// count from now. It returns the run.
func ResumeRollouts(ctx context.Context, tx pgx.Tx, ins Inserter, runID uuid.UUID) (*store.Run, error) {
	span := deliveryTrace{run: trace.SpanContextFromContext(ctx)}
	run, err := lockRun(ctx, tx, runID)
	if err != nil {
		return nil, err
	}
	q := store.New(tx)
	ros, err := q.RolloutsOfRun(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read rollouts: %w", err)
	}
	resumed := 0
	for _, r := range ros {
		if (r.Status != string(rollout.Paused) && r.Status != string(rollout.Aborted)) || run.State != state.RunRunning {
			continue
		}
		var revive []string
		if r.Status == string(rollout.Aborted) {
			revive = []string{string(state.TaskCancelled)}
		}
		if err := restartFleet(ctx, tx, ins, r.TaskRunID, revive, span); err != nil {
			return nil, err
		}
		resumed++
	}
	if resumed == 0 {
		return nil, ErrNoRollout
	}
	return run, nil
}
