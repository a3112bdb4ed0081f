package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Two transactions locking two rows in opposite orders deadlock; PostgreSQL
// ends one of them, and InTx runs that one again, so both commit.
func TestInTxRunsAgainAfterDeadlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	_, err := pool.Exec(ctx, "CREATE TABLE conflict_test (id int PRIMARY KEY, n int NOT NULL); INSERT INTO conflict_test VALUES (1, 0), (2, 0)")
	require.NoError(t, err)

	var (
		both     sync.WaitGroup // both have locked their first row
		attempts [2]int
		errs     [2]error
	)
	both.Add(2)
	var done sync.WaitGroup
	for i, order := range [2][2]int{{1, 2}, {2, 1}} {
		done.Add(1)
		go func() {
			defer done.Done()
			errs[i] = store.InTx(ctx, pool, func(tx pgx.Tx) error {
				attempts[i]++
				if _, err := tx.Exec(ctx, "UPDATE conflict_test SET n = n + 1 WHERE id = $1", order[0]); err != nil {
					return err
				}
				if attempts[i] == 1 {
					both.Done()
					both.Wait()
				}
				_, err := tx.Exec(ctx, "UPDATE conflict_test SET n = n + 1 WHERE id = $1", order[1])
				return err
			})
		}()
	}
	done.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	// One ran again, or, rarely on a loaded machine, both: PostgreSQL's
	// deadlock checks in the two backends can each find the cycle before
	// the other's abort has broken it.
	require.GreaterOrEqual(t, attempts[0]+attempts[1], 3, "a transaction ran again")
	var sum int
	require.NoError(t, pool.QueryRow(ctx, "SELECT sum(n) FROM conflict_test").Scan(&sum))
	require.Equal(t, 4, sum, "both transactions committed once")
}

func TestConflict(t *testing.T) {
	t.Parallel()
	require.False(t, store.Conflict(nil))
	require.False(t, store.Conflict(errors.New("deadlock")))
}
