package jobs

import (
	"context"
	"log/slog"
	"time"
)

// claimRetry is the wait after a claim failed.
const claimRetry = time.Second

// pollLoop runs the claims of a leaderless loop (the ticker, the timeout
// sweep) until ctx ends: claim returns how many items it handled; a full
// batch is followed at once by the next claim, anything less by a wait of
// poll. A failed claim (the database, not an item: claims isolate those) is
// tried again every claimRetry, logged once per outage as what failed, and
// once when it works again. The first claim is after first.
func pollLoop(ctx context.Context, logger *slog.Logger, what string, first, poll time.Duration, batch int, claim func(context.Context) (int, error)) {
	timer := time.NewTimer(first)
	defer timer.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		n, err := claim(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				logger.ErrorContext(ctx, what+" failed; retrying every second", slog.Any("error", err))
			}
			failing = true
			timer.Reset(max(poll, claimRetry))
			continue
		case n == batch:
			timer.Reset(0) // more are due
		default:
			timer.Reset(poll)
		}
		if failing {
			failing = false
			logger.InfoContext(ctx, what+" works again")
		}
	}
}
