package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
)

// A circuit opens after threshold consecutive failures, parks deliveries
// until its probe time, lets one probe through, and closes on an answer.
// The process clock is stubbed (its cache); the probe times are the
// database's, moved by hand instead of waited for.
func TestCircuitOpensProbesAndCloses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	now := time.Now()
	c := &circuits{pool: b.pool, threshold: 3, probeInterval: 30 * time.Second, parkDeadline: time.Hour, now: func() time.Time { return now }}
	const host = "gw-17.example:443"
	failed := &dispatch.Result{Outcome: dispatch.Retryable}

	for i := range 3 {
		park, err := c.gate(ctx, host, now)
		require.NoError(t, err)
		require.Zero(t, park, "closed circuit, failure %d", i)
		require.NoError(t, c.record(ctx, host, failed, "HTTP 503"))
	}
	park, err := c.gate(ctx, host, now)
	require.NoError(t, err)
	require.Positive(t, park, "open circuit: the delivery is parked")
	require.LessOrEqual(t, park, maxPark+100*time.Millisecond)

	// The probe time comes (on the database's clock), and the cache expires.
	_, err = b.pool.Exec(ctx, `UPDATE endpoints SET next_probe_at = now() - interval '1 second' WHERE host = $1`, host)
	require.NoError(t, err)
	now = now.Add(circuitCacheTTL + time.Millisecond)
	park, err = c.gate(ctx, host, now)
	require.NoError(t, err)
	require.Zero(t, park, "this delivery is the probe")
	park, err = c.gate(ctx, host, now)
	require.NoError(t, err)
	require.Positive(t, park, "one probe at a time")

	// Parked past the deadline: attempted as usual.
	park, err = c.gate(ctx, host, now.Add(-2*time.Hour))
	require.NoError(t, err)
	require.Zero(t, park)

	require.NoError(t, c.record(ctx, host, &dispatch.Result{Outcome: dispatch.Success, StatusCode: 200}, ""))
	park, err = c.gate(ctx, host, now)
	require.NoError(t, err)
	require.Zero(t, park, "the answer closed the circuit")
}

// Deliveries to one host read its circuit once per circuitCacheTTL between
// them: when the cache expires under many deliveries in flight, one reads
// and the others go on with what was known; before anything is known,
// they wait for the one read.
func TestCircuitReadOncePerHost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	c := &circuits{pool: b.pool, threshold: 3, probeInterval: 30 * time.Second, parkDeadline: time.Hour, now: clock}
	const host = "gw-18.example:443"

	gateAll := func(n int) {
		t.Helper()
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				park, err := c.gate(ctx, host, clock())
				require.NoError(t, err)
				require.Zero(t, park)
			}()
		}
		wg.Wait()
	}
	gateAll(50)
	require.EqualValues(t, 1, c.reads.Load(), "50 deliveries before anything was known")

	mu.Lock()
	now = now.Add(circuitCacheTTL + time.Millisecond)
	mu.Unlock()
	gateAll(50)
	require.EqualValues(t, 2, c.reads.Load(), "50 deliveries once the cache expired")
	gateAll(50)
	require.EqualValues(t, 2, c.reads.Load(), "read a moment ago")
}
