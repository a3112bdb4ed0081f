// Package batch groups concurrent calls into batched work (group commit).
package batch

import (
	"context"
	"sync"
	"time"
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
	spill    time.Duration
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

// DefaultSpill is the spill herald's batchers of the delivery path use
// (SpillAfter): longer than a batch takes on a busy two-core machine (1-3
// ms), so that batches normally go one at a time, and short beside a
// delivery's own time.
const DefaultSpill = 5 * time.Millisecond

// New returns a Batcher of at most max items a call of do, with flushers
// calls of do at once.
func New[T, R any](max, flushers int, do func(ctx context.Context, items []T) ([]R, error)) *Batcher[T, R] {
	return &Batcher[T, R]{max: max, flushers: flushers, do: do, queue: make(chan batchCall[T, R], max*flushers)}
}

// SpillAfter makes b write one batch at a time unless the batch being
// written has taken d: only then does the next one start beside it (up to
// flushers at once, each after the newest has taken d). A busy process then
// writes about twice the items per statement of two flushers taking turns,
// while a batch held up (a lock wait, a slow disk) delays the others by d at
// most. It must be called before Start.
func (b *Batcher[T, R]) SpillAfter(d time.Duration) *Batcher[T, R] {
	b.spill = d
	return b
}

// Start takes batches off the queue until ctx ends; each is written in a
// goroutine of its own, at most flushers at once.
func (b *Batcher[T, R]) Start(ctx context.Context) {
	b.wg.Go(func() { b.dispatch(ctx) })
}

// Wait returns when the batcher has stopped and its batches are written.
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

// dispatch takes batches off the queue and writes each in a goroutine of
// its own, at most flushers at once; with a spill, a batch starts while
// others are being written only once the newest of them has taken spill.
func (b *Batcher[T, R]) dispatch(ctx context.Context) {
	done := make(chan struct{}, b.flushers)
	running := 0
	due := true // whether another batch may start beside the running ones
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var queue chan batchCall[T, R]
		if running == 0 || (running < b.flushers && due) {
			queue = b.queue
		}
		var spilled <-chan time.Time
		if running > 0 && !due {
			spilled = timer.C
		}
		select {
		case c := <-queue:
			calls := b.drain(c)
			running++
			if b.spill > 0 {
				due = false
				timer.Reset(b.spill)
			}
			b.wg.Go(func() {
				b.write(ctx, calls)
				done <- struct{}{}
			})
		case <-done:
			running--
		case <-spilled:
			due = true
		case <-ctx.Done():
			return
		}
	}
}

// drain is first and the calls waiting behind it, up to max.
func (b *Batcher[T, R]) drain(first batchCall[T, R]) []batchCall[T, R] {
	calls := make([]batchCall[T, R], 1, min(b.max, len(b.queue)+1))
	calls[0] = first
	for len(calls) < b.max {
		select {
		case c := <-b.queue:
			calls = append(calls, c)
		default:
			return calls
		}
	}
	return calls
}

// write hands the items of calls to do and its results to their callers.
func (b *Batcher[T, R]) write(ctx context.Context, calls []batchCall[T, R]) {
	items := make([]T, len(calls))
	for i, c := range calls {
		items[i] = c.item
	}
	results, err := b.do(ctx, items)
	if err != nil && len(items) > 1 {
		for _, c := range calls {
			r, err := b.do(ctx, []T{c.item})
			c.done <- one(r, err)
		}
		return
	}
	for i, c := range calls {
		if err != nil {
			c.done <- batchResult[R]{err: err}
			continue
		}
		c.done <- batchResult[R]{val: results[i]}
	}
}

func one[R any](results []R, err error) batchResult[R] {
	if err != nil {
		return batchResult[R]{err: err}
	}
	return batchResult[R]{val: results[0]}
}
