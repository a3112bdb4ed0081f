package main

import (
	"context"
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
