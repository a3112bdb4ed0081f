package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBatcherGroupsCallsAndIsolatesFailures(t *testing.T) {
	t.Parallel()
	var calls, biggest atomic.Int64
	release := make(chan struct{})
	b := New(50, 1, func(_ context.Context, items []int) ([]int, error) {
		if calls.Add(1) == 1 {
			<-release // hold the first batch so that the others queue up
		}
		biggest.Store(max(biggest.Load(), int64(len(items))))
		out := make([]int, len(items))
		for i, v := range items {
			if v == 13 {
				return nil, errors.New("thirteen")
			}
			out[i] = v * 2
		}
		return out, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	b.Start(ctx)
	t.Cleanup(func() { cancel(); b.Wait() })

	var wg sync.WaitGroup
	results := make([]int, 40)
	errs := make([]error, 40)
	submit := func(i int) {
		defer wg.Done()
		results[i], errs[i] = b.Submit(context.Background(), i)
	}
	wg.Add(1)
	go submit(0)
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	for i := 1; i < 40; i++ {
		wg.Add(1)
		go submit(i)
	}
	require.Eventually(t, func() bool { return len(b.queue) == 39 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()

	for i := range 40 {
		if i == 13 {
			require.EqualError(t, errs[i], "thirteen")
			continue
		}
		require.NoError(t, errs[i], "item %d", i)
		require.Equal(t, 2*i, results[i], "item %d", i)
	}
	// The 39 queued calls went as one batch (which failed on 13, and was
	// retried item by item), not one by one.
	require.Equal(t, int64(39), biggest.Load())
}

func TestBatcherSubmitEndsWithCallerContext(t *testing.T) {
	t.Parallel()
	b := New(10, 1, func(_ context.Context, items []int) ([]int, error) { return items, nil })
	// No flusher runs: the call waits until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := b.Submit(ctx, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
