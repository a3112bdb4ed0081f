package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/store"
)

type txBundle struct {
	pool  *pgxpool.Pool
	trips *dbtest.RoundTrips
}

func setupTx(t *testing.T) *txBundle {
	t.Helper()
	pool, trips := dbtest.NewTraced(t)
	_, err := pool.Exec(context.Background(), `CREATE TABLE tx_test (n int PRIMARY KEY)`)
	require.NoError(t, err)
	trips.Take()
	return &txBundle{pool: pool, trips: trips}
}

func (b *txBundle) count(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM tx_test`).Scan(&n))
	return n
}

func TestBeginSendsBeginWithTheFirstStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	tests := []struct {
		name  string
		first func(tx pgx.Tx) error
	}{
		{"Exec", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 1)
			return err
		}},
		{"QueryRow", func(tx pgx.Tx) error {
			var n int
			return tx.QueryRow(ctx, `INSERT INTO tx_test VALUES ($1) RETURNING n`, 1).Scan(&n)
		}},
		{"Query read to its end, not closed", func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `INSERT INTO tx_test VALUES ($1) RETURNING n`, 1)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Err()
		}},
		{"Query collected", func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `INSERT INTO tx_test VALUES ($1) RETURNING n`, 1)
			if err != nil {
				return err
			}
			_, err = pgx.CollectRows(rows, pgx.RowTo[int])
			return err
		}},
		{"SendBatch", func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO tx_test VALUES ($1)`, 1)
			return tx.SendBatch(ctx, b).Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupTx(t)

			err := store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
				if err := tt.first(tx); err != nil {
					return err
				}
				require.Equal(t, byte('T'), tx.Conn().PgConn().TxStatus(), "inside a transaction after the first statement")
				_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 2)
				return err
			})
			require.NoError(t, err)
			sent := b.trips.Take()
			require.Len(t, sent, 3, "sent: %q", sent)
			require.True(t, strings.HasPrefix(sent[0], "begin + INSERT"), "got %q, want BEGIN with the first statement", sent[0])
			require.Equal(t, "commit", sent[2])
			require.Equal(t, 2, b.count(t))
		})
	}
}

func TestBeginRollsBackAndGivesTheConnectionBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTx(t)

	boom := errors.New("boom")
	err := store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES (1)`)
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Zero(t, b.count(t), "the insert was rolled back")
	require.Zero(t, b.pool.Stat().AcquiredConns())

	// A first statement that fails leaves the transaction aborted; it is
	// rolled back and the connection takes the next transaction.
	err = store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES ('not a number')`)
		return err
	})
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "22P02", pgErr.Code)
	require.Zero(t, b.pool.Stat().AcquiredConns())
	require.NoError(t, store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES (1)`)
		return err
	}))
	require.Equal(t, 1, b.count(t))

	// Commit, then Rollback, as a deferred Rollback does.
	tx, err := store.Begin(ctx, b.pool)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO tx_test VALUES (2)`)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	require.ErrorIs(t, tx.Rollback(ctx), pgx.ErrTxClosed)
	_, err = tx.Exec(ctx, `INSERT INTO tx_test VALUES (3)`)
	require.ErrorIs(t, err, pgx.ErrTxClosed)
	require.Equal(t, 2, b.count(t))
	require.Zero(t, b.pool.Stat().AcquiredConns())
}

func TestBeginWithoutStatementsSendsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTx(t)

	require.NoError(t, store.BeginFunc(ctx, b.pool, func(pgx.Tx) error { return nil }))
	require.Empty(t, b.trips.Take())
	require.Zero(t, b.pool.Stat().AcquiredConns())
}

func TestBeginSavepointsAndCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTx(t)

	err := store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		// A savepoint before any statement begins the transaction first.
		sp, err := tx.Begin(ctx)
		require.NoError(t, err)
		_, err = sp.Exec(ctx, `INSERT INTO tx_test VALUES (1)`)
		require.NoError(t, err)
		require.NoError(t, sp.Rollback(ctx))

		sp, err = tx.Begin(ctx)
		require.NoError(t, err)
		_, err = sp.Exec(ctx, `INSERT INTO tx_test VALUES (2)`)
		require.NoError(t, err)
		require.NoError(t, sp.Commit(ctx))

		_, err = tx.CopyFrom(ctx, pgx.Identifier{"tx_test"}, []string{"n"}, pgx.CopyFromRows([][]any{{3}, {4}}))
		return err
	})
	require.NoError(t, err)
	var ns []int
	rows, err := b.pool.Query(ctx, `SELECT n FROM tx_test ORDER BY n`)
	require.NoError(t, err)
	ns, err = pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	require.Equal(t, []int{2, 3, 4}, ns)

	// CopyFrom as the first statement.
	require.NoError(t, store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"tx_test"}, []string{"n"}, pgx.CopyFromRows([][]any{{5}}))
		return err
	}))
	require.Equal(t, 4, b.count(t))
	require.Zero(t, b.pool.Stat().AcquiredConns())
}

// A first statement whose context has ended fails with that, and the
// connection goes back to the pool (closed if it was left mid-transaction).
func TestBeginFirstStatementWithAnEndedContext(t *testing.T) {
	t.Parallel()
	b := setupTx(t)

	ctx, cancel := context.WithCancel(context.Background())
	err := store.BeginFunc(context.Background(), b.pool, func(tx pgx.Tx) error {
		cancel()
		_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES (1)`)
		return err
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, b.pool.Stat().AcquiredConns())
	require.Zero(t, b.count(t))
}

// Later's statements go with the transaction's next statement or with its
// COMMIT, in one round trip; one that fails fails that statement or Commit,
// and the transaction is rolled back.
func TestLaterSendsWithTheNextStatementOrCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("WithCommit", func(t *testing.T) {
		t.Parallel()
		b := setupTx(t)
		require.NoError(t, store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 1); err != nil {
				return err
			}
			_, err := store.Later(tx).Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 2)
			return err
		}))
		sent := b.trips.Take()
		require.Equal(t, []string{"begin + INSERT INTO tx_test VALUES ($1)", "INSERT INTO tx_test VALUES ($1) + commit"}, sent)
		require.Equal(t, 2, b.count(t))
		require.Zero(t, b.pool.Stat().AcquiredConns())
	})

	t.Run("WithTheNextStatement", func(t *testing.T) {
		t.Parallel()
		b := setupTx(t)
		require.NoError(t, store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if _, err := store.Later(tx).Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 1); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM tx_test`).Scan(&n); err != nil {
				return err
			}
			require.Equal(t, 1, n, "the held insert went first")
			return nil
		}))
		sent := b.trips.Take()
		require.Equal(t, []string{"begin + INSERT INTO tx_test VALUES ($1) + SELECT count(*) FROM tx_test", "commit"}, sent)
		require.Equal(t, 1, b.count(t))
	})

	t.Run("FailingAtCommit", func(t *testing.T) {
		t.Parallel()
		b := setupTx(t)
		err := store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 1); err != nil {
				return err
			}
			_, err := store.Later(tx).Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 1) // a duplicate key
			return err
		})
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "23505", pgErr.Code)
		require.Zero(t, b.count(t), "rolled back")
		require.Zero(t, b.pool.Stat().AcquiredConns())
		// The connection takes the next transaction.
		require.NoError(t, store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES (1)`)
			return err
		}))
		require.Equal(t, 1, b.count(t))
	})

	t.Run("DroppedByRollback", func(t *testing.T) {
		t.Parallel()
		b := setupTx(t)
		boom := errors.New("boom")
		err := store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if _, err := store.Later(tx).Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 1); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Empty(t, b.trips.Take(), "nothing was sent")
		require.Zero(t, b.count(t))
	})
}

// Blind holds a query as Later holds an Exec: it goes with the next
// statement, its rows unread; its caller sees none, and its error comes
// back from the next statement.
func TestBlindHoldsAQueryAndDropsItsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Sent", func(t *testing.T) {
		t.Parallel()
		b := setupTx(t)
		require.NoError(t, store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			rows, err := store.Blind(tx).Query(ctx, `INSERT INTO tx_test VALUES ($1) RETURNING n`, 1)
			require.NoError(t, err)
			require.False(t, rows.Next(), "no rows come back")
			rows.Close()
			var n int
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM tx_test`).Scan(&n))
			require.Equal(t, 1, n, "the held insert went first")
			return nil
		}))
		require.Equal(t, []string{"begin + INSERT INTO tx_test VALUES ($1) RETURNING n + SELECT count(*) FROM tx_test", "commit"}, b.trips.Take())
	})

	t.Run("FailingTheNextStatement", func(t *testing.T) {
		t.Parallel()
		b := setupTx(t)
		err := store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if _, err := store.Blind(tx).Query(ctx, `INSERT INTO tx_test VALUES ($1), ($1) RETURNING n`, 1); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO tx_test VALUES ($1)`, 2)
			return err
		})
		require.ErrorContains(t, err, "duplicate key")
		require.Zero(t, b.count(t), "nothing was written")
	})
}
