package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
)

// FlowLimits are a job's flow control, enforced across all replicas: at
// most Rate deliveries per second (a token bucket holding up to max(1, Rate)
// tokens) and at most MaxInFlight deliveries in flight at once (leases that
// expire with the request's timeout, so that a killed replica's lease does
// not hold a slot for ever). Zero means no limit.
type FlowLimits struct {
	// Rate is deliveries per second.
	Rate float64 `json:"rate,omitempty"`
	// MaxInFlight is deliveries in flight at once.
	MaxInFlight int `json:"max_in_flight,omitempty"`
}

func (f FlowLimits) limited() bool { return f.Rate > 0 || f.MaxInFlight > 0 }

// flowOf reads a job's limits.
func flowOf(j *store.Job) FlowLimits { return flowLimits(j.Rate, j.MaxInFlight) }

// flowLimits reads a job's limits from its columns.
func flowLimits(rate *float64, maxInFlight *int32) FlowLimits {
	var f FlowLimits
	if rate != nil {
		f.Rate = *rate
	}
	if maxInFlight != nil {
		f.MaxInFlight = int(*maxInFlight)
	}
	return f
}

// admit decides whether a delivery of a flow-limited job may go now. It
// takes a lease (max_in_flight) and a token (rate) in one transaction under
// the job's bucket row lock, or neither; when it cannot, it returns how long
// to wait (the delivery is snoozed: no worker held, no attempt used).
// leaseFor is how long the lease lasts unless released.
func admit(ctx context.Context, pool *pgxpool.Pool, args *DeliverArgs, leaseFor time.Duration, holder string, metadata []byte) (time.Duration, error) {
	f := args.Flow
	if !f.limited() {
		return 0, nil
	}
	var wait time.Duration
	err := store.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		burst := max(1, f.Rate)
		b, err := q.LockFlow(ctx, args.JobID)
		if errors.Is(err, pgx.ErrNoRows) { // the job's first limited delivery
			if err := q.EnsureFlow(ctx, store.EnsureFlowParams{JobID: args.JobID, Burst: burst}); err != nil {
				return err
			}
			b, err = q.LockFlow(ctx, args.JobID)
		}
		if err != nil {
			return err
		}
		if f.MaxInFlight > 0 {
			n, err := q.CountLeases(ctx, store.CountLeasesParams{JobID: args.JobID, TaskRunID: args.TaskRunID})
			if err != nil {
				return err
			}
			if int(n) >= f.MaxInFlight {
				wait = waitForSlot(metadata)
				return nil
			}
		}
		if f.Rate > 0 {
			tokens := min(burst, b.Tokens+b.Now.Sub(b.RefilledAt).Seconds()*f.Rate)
			if tokens < 1 {
				wait = time.Duration((1-tokens)/f.Rate*float64(time.Second)) + rand.N(10*time.Millisecond)
				return nil
			}
			if err := q.SetFlow(ctx, store.SetFlowParams{JobID: args.JobID, Tokens: tokens - 1, RefilledAt: b.Now}); err != nil {
				return err
			}
		}
		if f.MaxInFlight > 0 {
			return q.TakeLease(ctx, store.TakeLeaseParams{TaskRunID: args.TaskRunID, JobID: args.JobID, Seconds: leaseFor.Seconds(), Holder: holder})
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("flow control: %w", err)
	}
	return wait, nil
}

// releaseLease ends a delivery's lease (max_in_flight), unless another
// replica holds it now.
func releaseLease(ctx context.Context, pool *pgxpool.Pool, args *DeliverArgs, holder string) {
	if args.Flow.MaxInFlight > 0 {
		_ = store.New(pool).ReleaseLease(context.WithoutCancel(ctx), store.ReleaseLeaseParams{TaskRunID: args.TaskRunID, Holder: holder})
	}
}
