package client

import (
	"context"
	"iter"
)

// pages iterates over every item of a paginated list: page fetches the page
// after cursor (nil: the first) and returns its items and the next cursor
// (nil on the last page). An error ends the iteration, yielded once.
func pages[T any](ctx context.Context, page func(ctx context.Context, cursor *string) ([]T, *string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var cursor *string
		for {
			items, next, err := page(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == nil || *next == "" {
				return
			}
			cursor = next
		}
	}
}
