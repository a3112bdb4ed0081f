package jobs

import (
	"context"
	"slices"
	"sync"
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
		sent := s.enter(at, longBefore)
		sent()
		returns(t, func() { s.wait(ctx, at, longBefore) }, "a lone delivery's record waited")
		require.Empty(t, s.pending)
	})

	t.Run("waits for the last of the instant", func(t *testing.T) {
		t.Parallel()
		var s instants
		first, last := s.enter(at, longBefore), s.enter(at, longBefore)
		other := s.enter(at.Add(time.Second), longBefore) // another instant does not count
		first()
		first() // once only
		require.Equal(t, 1, s.pending[at.UnixNano()].unsent)
		go last() // before or after the wait begins: either ends it
		returns(t, func() { s.wait(ctx, at, longBefore) }, "the wait did not end when the instant's last delivery was sent")
		// last closes the instant's channel, then forgets the instant.
		require.Eventually(t, func() bool { return s.count() == 1 }, 10*time.Second, time.Millisecond)
		other()
		require.Zero(t, s.count())
	})

	t.Run("no wait past the cap", func(t *testing.T) {
		t.Parallel()
		var s instants
		_ = s.enter(at, longBefore) // never sent
		returns(t, func() { s.wait(ctx, at, at.Add(InstantRecordWait)) }, "the record waited past the cap")
	})

	t.Run("ends with ctx", func(t *testing.T) {
		t.Parallel()
		var s instants
		_ = s.enter(at, longBefore)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		returns(t, func() { s.wait(cctx, at, longBefore) }, "the wait outlived its context")
	})
}

// count is how many instants s has pending.
func (s *instants) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
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

// stubCollector records what gcQuiet sets.
type stubCollector struct {
	mu      sync.Mutex
	percent int
	sets    []int
}

func (c *stubCollector) set(p int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.percent
	c.percent = p
	c.sets = append(c.sets, p)
	return prev
}

func (c *stubCollector) state() (int, []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.percent, slices.Clone(c.sets)
}

// Pauses nest: the collector stops at the first and resumes, with the
// percentage it had, at the end of the last.
func TestGCQuietNests(t *testing.T) {
	t.Parallel()
	c := &stubCollector{percent: 150}
	q := &gcQuiet{set: c.set}
	q.begin()
	q.begin()
	q.end()
	percent, _ := c.state()
	require.Equal(t, -1, percent, "paused while a pause is left")
	q.end()
	percent, sets := c.state()
	require.Equal(t, 150, percent)
	require.Equal(t, []int{-1, 150}, sets)
}

// An instant of BurstQuietMin staged deliveries pauses the collector
// before it and until its last delivery is sent; a smaller one does not.
func TestInstantsPauseTheCollectorForABurst(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := now.Add(burstQuietLead) // the pause begins at once

	c := &stubCollector{percent: 100}
	s := instants{quiet: &gcQuiet{set: c.set}}
	var sent []func()
	for range BurstQuietMin - 1 {
		sent = append(sent, s.enter(at, now))
	}
	small := s.enter(at.Add(time.Second), now) // another instant, alone
	sent = append(sent, s.enter(at, now))      // the burst's last
	require.Eventually(t, func() bool { p, _ := c.state(); return p == -1 }, 10*time.Second, time.Millisecond, "the burst did not pause the collector")
	for _, f := range sent[1:] {
		f()
	}
	small()
	percent, _ := c.state()
	require.Equal(t, -1, percent, "paused until the burst's last delivery is sent")
	sent[0]()
	require.Eventually(t, func() bool { p, _ := c.state(); return p == 100 }, 10*time.Second, time.Millisecond, "the collector did not resume")
	_, sets := c.state()
	require.Equal(t, []int{-1, 100}, sets, "one pause, for the burst only")
}

// A burst whose requests hang (a device that stops answering) holds the
// collector's pause no longer than InstantRecordWait after its instant.
func TestInstantsPauseEndsForAHangingBurst(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := &stubCollector{percent: 100}
	s := instants{quiet: &gcQuiet{set: c.set}}
	for range BurstQuietMin {
		_ = s.enter(now, now) // never sent
	}
	require.Eventually(t, func() bool { _, sets := c.state(); return len(sets) == 2 }, 10*time.Second, time.Millisecond, "the pause did not end")
	_, sets := c.state()
	require.Equal(t, []int{-1, 100}, sets)
}
