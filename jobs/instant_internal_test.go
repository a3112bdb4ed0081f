package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestInstantsRecordWaitsForTheInstantsSends(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	longBefore := at.Add(-time.Hour) // the cap far away: only the sends end the wait
	ctx := context.Background()

	t.Run("lone delivery waits for nothing", func(t *testing.T) {
		t.Parallel()
		var s instants
		sent := s.enter(at)
		sent()
		s.wait(ctx, at, longBefore) // returns at once, or the test times out
		require.Empty(t, s.pending)
	})

	t.Run("waits for the last of the instant", func(t *testing.T) {
		t.Parallel()
		var s instants
		first, last := s.enter(at), s.enter(at)
		other := s.enter(at.Add(time.Second)) // another instant does not count
		first()
		first() // once only
		require.Equal(t, 1, s.pending[at.UnixNano()].unsent)
		done := make(chan struct{})
		go func() {
			s.wait(ctx, at, longBefore)
			close(done)
		}()
		last()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the wait did not end when the instant's last delivery was sent")
		}
		require.Len(t, s.pending, 1)
		other()
		require.Empty(t, s.pending)
	})

	t.Run("no wait past the cap", func(t *testing.T) {
		t.Parallel()
		var s instants
		_ = s.enter(at) // never sent
		s.wait(ctx, at, at.Add(InstantRecordWait))
	})

	t.Run("ends with ctx", func(t *testing.T) {
		t.Parallel()
		var s instants
		_ = s.enter(at)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		s.wait(cctx, at, longBefore)
	})
}
