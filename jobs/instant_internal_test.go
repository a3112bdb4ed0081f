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
		returns(t, func() { s.wait(ctx, at, longBefore) }, "a lone delivery's record waited")
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
		go last() // before or after the wait begins: either ends it
		returns(t, func() { s.wait(ctx, at, longBefore) }, "the wait did not end when the instant's last delivery was sent")
		require.Len(t, s.pending, 1)
		other()
		require.Empty(t, s.pending)
	})

	t.Run("no wait past the cap", func(t *testing.T) {
		t.Parallel()
		var s instants
		_ = s.enter(at) // never sent
		returns(t, func() { s.wait(ctx, at, at.Add(InstantRecordWait)) }, "the record waited past the cap")
	})

	t.Run("ends with ctx", func(t *testing.T) {
		t.Parallel()
		var s instants
		_ = s.enter(at)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		returns(t, func() { s.wait(cctx, at, longBefore) }, "the wait outlived its context")
	})
}

// returns fails the test unless f returns within 10 s (it should at once).
func returns(t *testing.T, f func(), msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal(msg)
	}
}
