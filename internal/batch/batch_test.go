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

// With a spill, a second batch starts beside the first only once the first
// has taken the spill: before that the calls wait and go together.
func TestBatcherSpillAfter(t *testing.T) {
	t.Parallel()

	type bundle struct {
		b       *Batcher[int, int]
		release chan struct{}
		sizes   chan int
	}
	setup := func(t *testing.T, spill time.Duration) *bundle {
		t.Helper()
		bd := &bundle{release: make(chan struct{}), sizes: make(chan int, 100)}
		var first atomic.Bool
		bd.b = New(50, 2, func(_ context.Context, items []int) ([]int, error) {
			bd.sizes <- len(items)
			if first.CompareAndSwap(false, true) {
				<-bd.release // hold the first batch
			}
			return items, nil
		}).SpillAfter(spill)
		ctx, cancel := context.WithCancel(context.Background())
		bd.b.Start(ctx)
		t.Cleanup(func() { cancel(); bd.b.Wait() })
		return bd
	}
	submit := func(bd *bundle, n int) *sync.WaitGroup {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				got, err := bd.b.Submit(context.Background(), i)
				require.NoError(t, err)
				require.Equal(t, i, got)
			})
		}
		return &wg
	}

	t.Run("BeforeTheSpillCallsWait", func(t *testing.T) {
		t.Parallel()
		bd := setup(t, time.Hour)
		held := submit(bd, 1)
		require.Equal(t, 1, <-bd.sizes)
		queued := submit(bd, 5)
		require.Eventually(t, func() bool { return len(bd.b.queue) == 5 }, 5*time.Second, time.Millisecond,
			"the calls wait on the queue while the first batch is written")
		close(bd.release)
		held.Wait()
		queued.Wait()
		require.Equal(t, 5, <-bd.sizes, "one batch of the calls that waited")
	})

	t.Run("AfterTheSpillABatchStartsBeside", func(t *testing.T) {
		t.Parallel()
		bd := setup(t, 10*time.Millisecond)
		t.Cleanup(func() { close(bd.release) })
		submit(bd, 1)
		require.Equal(t, 1, <-bd.sizes)
		// The first batch is held until the test ends; these are written
		// beside it once it has taken the spill.
		submit(bd, 3).Wait()
	})
}
