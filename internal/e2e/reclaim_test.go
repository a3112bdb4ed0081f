package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/replica"
)

// A delivery held by a replica that died mid-attempt is put back: the lost
// attempt is recorded as such, the River job is replaced, and the next
// attempt carries the same webhook-id with the next attempt number, without
// using up the task's attempts.
func TestReclaimPutsAHeldDeliveryBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	api := heraldtest.StartOn(t, pool, heraldtest.Options{NoWork: true})
	rc := heraldtest.NewReceiver(t, nil)
	b := &testBundle{h: api}
	j := b.createJob(t, nil, rc.URL, map[string]any{"retry": map[string]any{"max_attempts": 1}})
	require.Equal(t, http.StatusAccepted, api.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)

	// A replica fetched the delivery and began its attempt, then died.
	_, err := pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
		attempted_by = ARRAY['dead-replica'] WHERE kind = 'herald.deliver'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE task_runs SET state = 'running', attempts = 1, started_at = now()`)
	require.NoError(t, err)
	var oldJob int64
	var taskRun string
	require.NoError(t, pool.QueryRow(ctx, `SELECT id, args->>'task_run_id' FROM river_job WHERE kind = 'herald.deliver'`).Scan(&oldJob, &taskRun))

	var moved int
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		moved, err = api.River.Reclaim(ctx, tx, "dead-replica")
		return err
	}))
	require.Equal(t, 1, moved)
	var oldState string
	require.NoError(t, pool.QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, oldJob).Scan(&oldState))
	require.Equal(t, "cancelled", oldState, "the dead replica's job can no longer be completed")
	var args json.RawMessage
	require.NoError(t, pool.QueryRow(ctx, `SELECT args FROM river_job WHERE kind = 'herald.deliver' AND state = 'available'`).Scan(&args))
	require.JSONEq(t, `"`+taskRun+`"`, string(mustField(t, args, "task_run_id")))
	require.JSONEq(t, `1`, string(mustField(t, args, "attempt_base")), "numbering goes on after the lost attempt")

	// A live worker delivers it: attempt 2, same webhook-id, and the task's
	// single attempt was not used up by the lost one.
	heraldtest.StartOn(t, pool, heraldtest.Options{})
	r := b.finishedRun(t, j.ID, 20*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Len(t, r.Tasks[0].Attempts, 2)
	require.Equal(t, "lost", r.Tasks[0].Attempts[0].Outcome)
	require.Contains(t, *r.Tasks[0].Attempts[0].Error, "dead-replica")
	require.Equal(t, "succeeded", r.Tasks[0].Attempts[1].Outcome)
	reqs := rc.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, r.Tasks[0].WebhookID, reqs[0].Header.Get("Webhook-Id"))
	require.Equal(t, "2", reqs[0].Header.Get("Herald-Attempt"))

	// Reclaiming again finds nothing: the job it replaced is not running.
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		moved, err = api.River.Reclaim(ctx, tx, "dead-replica")
		return err
	}))
	require.Zero(t, moved)
}

func mustField(t *testing.T, obj json.RawMessage, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(obj, &m))
	v, ok := m[key]
	require.True(t, ok, "no %s in %s", key, obj)
	return v
}

// A replica whose clock runs 400ms ahead of PostgreSQL's measures the
// offset with its heartbeats and sends staged deliveries at their nominal
// time by the database's clock: none early.
func TestSkewedClockStillSendsOnTime(t *testing.T) {
	t.Parallel()
	const skew = 400 * time.Millisecond
	h := heraldtest.Start(t, heraldtest.Options{Replica: func(c *replica.Config) {
		c.Now = func() time.Time { return time.Now().Add(skew) }
		c.HeartbeatInterval = 100 * time.Millisecond
		c.Timeout = time.Second
	}})
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		var page struct {
			Data []struct {
				ClockOffsetMs *float64 `json:"clock_offset_ms"`
			}
		}
		h.Do(http.MethodGet, "/v1/replicas", nil).JSON(t, &page)
		return len(page.Data) == 1 && page.Data[0].ClockOffsetMs != nil &&
			*page.Data[0].ClockOffsetMs < -350 && *page.Data[0].ClockOffsetMs > -450
	}, "the replica did not measure its clock's offset")

	rc := heraldtest.NewReceiver(t, nil)
	at := time.Now().Add(3 * time.Second).UTC().Truncate(time.Millisecond)
	const n = 10
	for range n {
		recurringJob(t, h, map[string]any{"at": at.Format(time.RFC3339Nano)}, rc.URL, nil)
	}
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() == n }, "not every delivery arrived")
	for _, r := range rc.Requests() {
		require.Equal(t, at, scheduledFor(t, r))
		// Uncorrected, the replica would send 400ms early.
		require.False(t, r.At.Before(at), "arrived %s before its time", at.Sub(r.At))
	}
}
