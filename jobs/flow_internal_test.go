package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// max_in_flight holds across replicas: leases name their holder, and only
// the holder releases its own.
func TestAdmitCapsInFlightAcrossHolders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	job := uuid.New()
	delivery := func() *DeliverArgs {
		return &DeliverArgs{TaskRunID: uuid.New(), JobID: job, Flow: FlowLimits{MaxInFlight: 2}}
	}
	first, second, third := delivery(), delivery(), delivery()
	for _, d := range []*DeliverArgs{first, second} {
		wait, err := admit(ctx, b.pool, d, time.Minute, "replica-a", nil)
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	wait, err := admit(ctx, b.pool, third, time.Minute, "replica-b", nil)
	require.NoError(t, err)
	require.Positive(t, wait, "a third delivery in flight")

	releaseLease(ctx, b.pool, first, "replica-b") // not its lease
	wait, err = admit(ctx, b.pool, third, time.Minute, "replica-b", nil)
	require.NoError(t, err)
	require.Positive(t, wait, "another replica released a lease it does not hold")

	releaseLease(ctx, b.pool, first, "replica-a")
	wait, err = admit(ctx, b.pool, third, time.Minute, "replica-b", nil)
	require.NoError(t, err)
	require.Zero(t, wait)
}

func TestAdmitSpendsRateTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	job := uuid.New()
	args := func() *DeliverArgs {
		return &DeliverArgs{TaskRunID: uuid.New(), JobID: job, Flow: FlowLimits{Rate: 0.5}}
	}
	wait, err := admit(ctx, b.pool, args(), time.Minute, "r", nil)
	require.NoError(t, err)
	require.Zero(t, wait, "the bucket starts full")
	wait, err = admit(ctx, b.pool, args(), time.Minute, "r", nil)
	require.NoError(t, err)
	// One token every 2s: the next comes within 2s (plus up to 10ms of
	// jitter), not before a good part of it.
	require.Greater(t, wait, time.Second)
	require.LessOrEqual(t, wait, 2*time.Second+10*time.Millisecond)
}
