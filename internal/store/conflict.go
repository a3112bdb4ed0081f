package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// conflictAttempts is how many times InTx runs a transaction that lost a
// conflict to a concurrent one.
const conflictAttempts = 3

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
// it keeps happening. fn must have no effect outside tx.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	var err error
	for range conflictAttempts {
		if err = BeginFunc(ctx, pool, fn); !Conflict(err) {
			return err
		}
	}
	return err
}
