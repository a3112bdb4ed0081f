package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/placement"
	"github.com/herald-sched/herald/internal/store"
)

// placed is the device an attempt of a task with a target goes to.
type placed struct {
	device   uuid.UUID
	url      string // the device's base URL and the target's path
	capacity int
	reason   string // the decision, explained
	pull     bool   // the device fetches its tasks: url is pullBase and the path
}

// deviceWaitMax is the longest single wait of a task for a device to be
// eligible (snoozed: no worker held, no attempt used): it looks again at
// least this often.
const deviceWaitMax = time.Second

// errDeviceGone is a device deleted between its snapshot and its attempt.
var errDeviceGone = errors.New("the device chosen is gone")

// place chooses the device of a task with a target, from the fleet's
// snapshot of its pool (or its one device), away from the devices whose
// attempts of this task run failed. A nil placed, with the decision, means
// no device is eligible now.
func (w *DeliverWorker) place(ctx context.Context, tr *store.BeginAttemptsRow, t *jobspec.Target) (*placed, *placement.Decision, error) {
	var (
		snap *placement.Snapshot
		err  error
		// Without a hub to hear results, pull-mode devices are not chosen.
		task = placement.Task{TaskRunID: tr.ID, Sequence: w.placements.Add(1), PushOnly: w.hub == nil}
		name = placement.StrategyLoadAware
	)
	if t.Pool != nil {
		snap, err = w.fleet.Pool(ctx, t.Pool.Selector)
		task.Selector, name = t.Pool.Selector, t.Pool.Strategy
		if t.Pool.TopN != nil {
			task.TopN = *t.Pool.TopN
		}
	} else {
		id, perr := uuid.Parse(t.Device)
		if perr != nil {
			return nil, nil, fmt.Errorf("target device: %w", perr)
		}
		snap, err = w.fleet.Device(ctx, id)
	}
	if err != nil {
		return nil, nil, err
	}
	if task.Tried, err = store.New(w.pool).TriedDevices(ctx, tr.ID); err != nil {
		return nil, nil, fmt.Errorf("read tried devices: %w", err)
	}
	chain, err := placement.ForStrategy(name)
	if err != nil {
		return nil, nil, err
	}
	d := chain.Place(snap, &task)
	chosen := d.Chosen()
	if chosen == nil {
		return nil, &d, nil
	}
	base, ok := w.fleet.URL(chosen.ID)
	if !ok {
		return nil, &d, errDeviceGone
	}
	p := &placed{device: chosen.ID, capacity: chosen.Capacity, reason: d.Explain(), pull: base == nil}
	if p.pull {
		p.url = pullBase + t.Path
	} else {
		p.url = strings.TrimRight(*base, "/") + t.Path
	}
	return p, &d, nil
}

// expired reports whether a task with a valid_for waited for a device past
// it, counted from the run's nominal time.
func expired(t *jobspec.Task, scheduledFor, now time.Time) bool {
	return t.ValidFor != nil && now.After(scheduledFor.Add(t.ValidFor.Std()))
}

// deviceWait is how long a task waits before it looks for a device again:
// at most deviceWaitMax, and not past its valid_for.
func deviceWait(t *jobspec.Task, scheduledFor, now time.Time) time.Duration {
	wait := deviceWaitMax
	if t.ValidFor != nil {
		if left := scheduledFor.Add(t.ValidFor.Std()).Sub(now); left < wait {
			wait = max(left, 10*time.Millisecond)
		}
	}
	return wait - rand.N(wait/10+1)
}

// admitDevice takes a lease of the device's capacity for the task run's
// delivery, in a transaction under the device's advisory lock, so that
// replicas together send it at most capacity deliveries at once; false when
// it is full.
func admitDevice(ctx context.Context, pool *pgxpool.Pool, p *placed, taskRun uuid.UUID, holder string, leaseFor time.Duration) (bool, error) {
	admitted := false
	err := store.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.LockDevice(ctx, device.CircuitKey(p.device)); err != nil {
			return err
		}
		n, err := q.CountDeviceLeases(ctx, store.CountDeviceLeasesParams{DeviceID: p.device, TaskRunID: taskRun})
		if err != nil || int(n) >= p.capacity {
			return err
		}
		admitted = true
		return q.TakeDeviceLease(ctx, store.TakeDeviceLeaseParams{TaskRunID: taskRun, DeviceID: p.device, Holder: holder, Seconds: leaseFor.Seconds()})
	})
	if err != nil {
		return false, fmt.Errorf("device admission: %w", err)
	}
	return admitted, nil
}

// releaseDeviceLease ends a delivery's device lease, unless another replica
// holds it now.
func releaseDeviceLease(ctx context.Context, pool *pgxpool.Pool, taskRun uuid.UUID, holder string) {
	_ = store.New(pool).ReleaseDeviceLease(context.WithoutCancel(ctx), store.ReleaseDeviceLeaseParams{TaskRunID: taskRun, Holder: holder})
}
