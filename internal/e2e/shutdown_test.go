package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// A replica stopping (SIGTERM's graceful stop) sends the ticks it claimed
// ahead of their time before it stops, instead of leaving their deliveries
// in the queue to be sent late by whichever replica starts next: once Stop
// returns, every run of a per-second schedule has had its request sent,
// and none is left running.
func TestStoppingReplicaSendsTheTicksItClaimed(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	rc := heraldtest.NewReceiver(t, nil)
	j := recurringJob(t, h, map[string]any{"cron": "* * * * * *"}, rc.URL+"/tick", nil)

	// Stop while a tick is staged: its run exists, its time has not come.
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var staged bool
		require.NoError(t, h.Pool.QueryRow(t.Context(),
			`SELECT EXISTS (SELECT 1 FROM runs WHERE job_id = $1 AND scheduled_for > now() + interval '500 milliseconds')`, j.ID).Scan(&staged))
		return staged
	}, "a tick claimed ahead")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.River.Stop(ctx))

	sent := map[time.Time]bool{}
	for _, r := range rc.Requests() {
		at, err := time.Parse(time.RFC3339Nano, r.Header.Get("Herald-Scheduled-For"))
		require.NoError(t, err)
		sent[at.UTC()] = true
	}
	rows, err := h.Pool.Query(t.Context(), `SELECT scheduled_for, state FROM runs WHERE job_id = $1 ORDER BY scheduled_for`, j.ID)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var at time.Time
		var st string
		require.NoError(t, rows.Scan(&at, &st))
		require.True(t, sent[at.UTC()], "the tick of %s was claimed but not sent before the replica stopped", at)
		require.Equal(t, "succeeded", st, "the run of %s", at)
		n++
	}
	require.NoError(t, rows.Err())
	require.Positive(t, n)
}
