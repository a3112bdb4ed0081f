package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/store"
)

// A delivery's two updates of its task run (BeginAttempts, SettleTaskRuns)
// are HOT: no index of task_runs holds a column they change, the columns of
// partial-index predicates included (migration 0021). An index on state, say,
// would make both of them write an entry in every index of the table.
func TestDeliveryUpdatesOfTaskRunsAreHOT(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)

	jobID, runID, taskRunID := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	_, err := pool.Exec(ctx, `INSERT INTO jobs (id, name, tasks, secret) VALUES ($1, 'j', '[]', 'whsec_x')`, jobID)
	require.NoError(t, err)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	q := store.New(tx)
	_, err = q.CreateSoloRuns(ctx, store.CreateSoloRunsParams{
		Trigger: "manual", Ids: []uuid.UUID{runID}, JobIds: []uuid.UUID{jobID},
		ScheduledFors: []time.Time{time.Now()}, Inputs: [][]byte{nil},
		TaskRunIds: []uuid.UUID{taskRunID}, TaskIds: []string{"main"},
		Specs: [][]byte{[]byte(`{"id": "main", "request": {"url": "https://example.com/"}}`)},
	})
	require.NoError(t, err)
	begun, err := q.BeginAttempts(ctx, store.BeginAttemptsParams{
		Ids: []uuid.UUID{taskRunID}, Rounds: []int32{0}, Attempts: []int32{1},
	})
	require.NoError(t, err)
	require.Len(t, begun, 1)
	settled, err := q.RecordAndSettle(ctx, store.RecordAndSettleParams{
		Ids: []uuid.UUID{taskRunID}, States: []string{"succeeded"}, LastErrors: []string{""}, LatestAttempts: []int32{1},
	})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{taskRunID}, settled)

	// The transaction's own counts, not yet sent to the statistics.
	var updated, hot int64
	require.NoError(t, tx.QueryRow(ctx, `
		SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'task_runs'`,
	).Scan(&updated, &hot))
	require.Equal(t, int64(2), updated)
	require.Equal(t, int64(2), hot, "an index of task_runs holds a column a delivery updates")
}

// The task runs are made with room on their pages for HOT updates.
func TestTaskRunsLeaveRoomForHOTUpdates(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var options []string
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT coalesce(reloptions, '{}') FROM pg_class WHERE relname = 'task_runs' AND relkind = 'r'`,
	).Scan(&options))
	require.Contains(t, options, "fillfactor=50")
}
