package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// parallel runs fn on n goroutines, numbered 0 to n-1, and waits for all of
// them. The first error cancels the others' context and is returned.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, worker int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range n {
		wg.Go(func() {
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err })
				cancel()
			}
		})
	}
	wg.Wait()
	return first
}

// sleep waits for d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitUntil waits until t, or until ctx is done.
func waitUntil(ctx context.Context, t time.Time) error { return sleep(ctx, time.Until(t)) }

// waitFor waits until done reports true, looking every millisecond or so,
// for at most timeout.
func waitFor(ctx context.Context, timeout time.Duration, done func() bool) error {
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		if err := sleep(ctx, waitPoll); err != nil {
			return err
		}
	}
	return nil
}

// waitPoll is how often waitFor looks.
const waitPoll = 5 * time.Millisecond
