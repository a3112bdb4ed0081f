package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// conflictAttempts is how many times InTx runs a transaction that lost a
// conflict to a concurrent one.
const conflictAttempts = 3

// conflictBackoff bounds the random wait before InTx's second attempt; it
// doubles for each attempt after. Two transactions PostgreSQL both ended
// (each backend's deadlock check can find the cycle before the other's
// abort breaks it) and run again at once would lock in the same orders
// again; a random wait lets one finish before the other begins.
const conflictBackoff = 10 * time.Millisecond

// Conflict reports whether err is PostgreSQL ending a transaction because
// it conflicted with a concurrent one (deadlock, serialization failure):
// nothing was written, and the same transaction may succeed when run again.
func Conflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// InTx runs fn in a transaction on pool (Begin's: BEGIN goes with the
// first statement), committed when fn returns nil; a
// transaction PostgreSQL ended for a conflict with a concurrent one (a
// deadlock between an API write and a worker, say) is run again, up to
// conflictAttempts times in all, so the caller sees a conflict only when
// it keeps happening. Each attempt after the first waits a random time
// below conflictBackoff, doubled per attempt, or until ctx is done. fn
// must have no effect outside tx.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	var err error
	for attempt := range conflictAttempts {
		if attempt > 0 {
			if werr := wait(ctx, rand.N(conflictBackoff<<(attempt-1))); werr != nil {
				return err
			}
		}
		if err = BeginFunc(ctx, pool, fn); !Conflict(err) {
			return err
		}
	}
	return err
}

// wait returns after d, or with ctx's error when ctx is done first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
