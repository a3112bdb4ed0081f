package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// load is background traffic: n goroutines each calling an operation over
// and over until the load is stopped or an operation fails. Stopping lets
// the operations in flight finish; only cancelling ctx interrupts them.
type load struct {
	stopped atomic.Bool
	done    chan struct{}
	err     error
}

// startLoad calls op on n goroutines, numbered 0 to n-1, until Stop.
func startLoad(ctx context.Context, n int, op func(ctx context.Context, worker int) error) *load {
	l := &load{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.err = parallel(ctx, n, func(ctx context.Context, worker int) error {
			for !l.stopped.Load() {
				if err := op(ctx, worker); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	return l
}

// Run lets the load run for d. If the load fails or ctx is done first, it
// stops the load and returns why.
func (l *load) Run(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-l.done:
		if err := l.Stop(); err != nil {
			return err
		}
		return errors.New("the load stopped by itself")
	case <-ctx.Done():
		_ = l.Stop() // the operations fail for the same reason
		return ctx.Err()
	}
}

// Stop lets the operations in flight finish, waits for the goroutines and
// returns the first error an operation returned.
func (l *load) Stop() error {
	l.stopped.Store(true)
	<-l.done
	return l.err
}
