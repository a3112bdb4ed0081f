package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHostLimiterHandsSlotsToWaiters(t *testing.T) {
	t.Parallel()
	l := newHostLimiter(2)
	ctx := context.Background()
	require.True(t, l.acquire(ctx, "a:1", 0))
	require.True(t, l.acquire(ctx, "a:1", 0))
	require.False(t, l.acquire(ctx, "a:1", 0), "a third without waiting")
	require.True(t, l.acquire(ctx, "b:1", 0), "another host has its own slots")

	got := make(chan bool, 1)
	go func() { got <- l.acquire(ctx, "a:1", time.Minute) }()
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.hosts["a:1"].waiters) == 1
	}, 5*time.Second, time.Millisecond)
	l.release("a:1")
	require.True(t, <-got, "the waiter gets the released slot")

	require.False(t, l.acquire(ctx, "a:1", 10*time.Millisecond), "no slot frees within the wait")
	l.mu.Lock()
	require.Empty(t, l.hosts["a:1"].waiters, "a waiter that gave up is gone")
	require.Equal(t, 2, l.hosts["a:1"].inFlight)
	l.mu.Unlock()

	l.release("a:1")
	l.release("a:1")
	l.release("b:1")
	l.mu.Lock()
	require.Empty(t, l.hosts)
	l.mu.Unlock()
}
