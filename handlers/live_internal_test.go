package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/views"
)

// A hundred views of one run share one poll: the run is read once per poll
// period, not once per view, every view gets each change, and the poll
// stops when the run ends.
func TestLiveViewsShareOnePoll(t *testing.T) {
	t.Parallel()
	var reads atomic.Int32
	id := uuid.New()
	read := func(_ context.Context, got uuid.UUID) (*views.RunBody, *store.Job, error) {
		require.Equal(t, id, got)
		n := reads.Add(1)
		b := &views.RunBody{Run: views.RunSummary{ID: got.String(), State: "running"}, TaskCount: int(n)}
		if n >= 5 {
			b.Run.State = "succeeded"
			now := time.Now()
			b.Run.FinishedAt = &now
		}
		return b, &store.Job{}, nil
	}
	live := newLiveRuns(read, 20*time.Millisecond)
	const viewers = 100
	var wg sync.WaitGroup
	seen := make([]int, viewers)
	for i := range viewers {
		ch, stop := live.follow(id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer stop()
			for snap := range ch {
				require.NoError(t, snap.err)
				seen[i]++
				if snap.body.Ended() {
					return
				}
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 5, reads.Load(), "one read per poll, whatever the number of views")
	for i := range viewers {
		require.GreaterOrEqual(t, seen[i], 1, "view %d saw nothing", i)
		require.LessOrEqual(t, seen[i], 5)
	}
	live.mu.Lock()
	defer live.mu.Unlock()
	require.Empty(t, live.runs, "the poll stopped with the run")
}
