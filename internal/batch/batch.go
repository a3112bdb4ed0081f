// Package batch groups concurrent calls into batched work (group commit).
package batch

import (
	"context"
	"sync"
)

// Batcher turns concurrent calls into batched database work (group commit):
// each caller submits an item and waits; a flusher takes every item waiting,
// up to max, and handles them with one do call. There is no timer: a batch is
// what arrived while the previous one was being written, so a lone call
// costs no wait and a busy process writes many items per statement.
//
// do returns one result per item, in order. When do fails for a batch of
// several items, each is retried alone, so that one bad item (or a deadlock
// between batches) fails only its own caller.
type Batcher[T, R any] struct {
	max      int
	flushers int
	do       func(ctx context.Context, items []T) ([]R, error)

	queue chan batchCall[T, R]
	wg    sync.WaitGroup
}

type batchCall[T, R any] struct {
	item T
	done chan batchResult[R]
}

type batchResult[R any] struct {
	val R
	err error
}

// New returns a Batcher of at most max items a call of do, with flushers
// calls of do at once.
func New[T, R any](max, flushers int, do func(ctx context.Context, items []T) ([]R, error)) *Batcher[T, R] {
	return &Batcher[T, R]{max: max, flushers: flushers, do: do, queue: make(chan batchCall[T, R], max*flushers)}
}

// Start runs the flushers until ctx ends.
func (b *Batcher[T, R]) Start(ctx context.Context) {
	for range b.flushers {
		b.wg.Go(func() { b.flush(ctx) })
	}
}

// Wait returns when the flushers have stopped.
func (b *Batcher[T, R]) Wait() { b.wg.Wait() }

// Submit hands item to a flusher and waits for its result. The item may
// still be written after ctx ends; the caller just stops waiting.
func (b *Batcher[T, R]) Submit(ctx context.Context, item T) (R, error) {
	call := batchCall[T, R]{item: item, done: make(chan batchResult[R], 1)}
	var zero R
	select {
	case b.queue <- call:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	select {
	case res := <-call.done:
		return res.val, res.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func (b *Batcher[T, R]) flush(ctx context.Context) {
	calls := make([]batchCall[T, R], 0, b.max)
	items := make([]T, 0, b.max)
	for {
		calls, items = calls[:0], items[:0]
		select {
		case c := <-b.queue:
			calls = append(calls, c)
		case <-ctx.Done():
			return
		}
	drain:
		for len(calls) < b.max {
			select {
			case c := <-b.queue:
				calls = append(calls, c)
			default:
				break drain
			}
		}
		for _, c := range calls {
			items = append(items, c.item)
		}
		results, err := b.do(ctx, items)
		if err != nil && len(items) > 1 {
			for _, c := range calls {
				r, err := b.do(ctx, []T{c.item})
				c.done <- one(r, err)
			}
			continue
		}
		for i, c := range calls {
			if err != nil {
				c.done <- batchResult[R]{err: err}
				continue
			}
			c.done <- batchResult[R]{val: results[i]}
		}
	}
}

func one[R any](results []R, err error) batchResult[R] {
	if err != nil {
		return batchResult[R]{err: err}
	}
	return batchResult[R]{val: results[0]}
}
