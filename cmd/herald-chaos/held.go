package main

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// heldDelivery is a delivery a replica held when it was killed: a River
// delivery job running under one of the replica's River client ids, whose
// task run had not finished. Nothing but a reclaim (or River's rescue) can
// move it: its replica is gone.
type heldDelivery struct {
	// TaskRunID is the task run; its webhook-id is jobs.WebhookID of it.
	TaskRunID uuid.UUID
	// State is the task run's state at the kill.
	State string
	// AttemptedAt is when the killed replica fetched the job.
	AttemptedAt time.Time
}

// heldQuery lists the deliveries running under the given River client ids
// whose task runs are not final. River appends the fetching client's id to
// attempted_by at every fetch, so its last element names the replica
// working the job now. A job whose outcome herald recorded but whose River
// completion the replica had not written yet finds its task run final and
// is left out: it has nothing more to send.
const heldQuery = `
SELECT t.id, t.state, j.attempted_at
FROM river_job j
JOIN task_runs t ON t.id = (j.args->>'task_run_id')::uuid
WHERE j.kind = 'herald.deliver' AND j.state = 'running'
  AND j.attempted_by[cardinality(j.attempted_by)] = ANY($1::text[])
  AND t.state NOT IN ('succeeded', 'failed', 'upstream_failed', 'cancelled')
ORDER BY j.attempted_at`

// snapshotHeld lists the deliveries the killed replica with River client
// ids clientIDs held. Taken right after the kill, before anything could
// reclaim them.
func snapshotHeld(ctx context.Context, pool *pgxpool.Pool, clientIDs []string) ([]heldDelivery, error) {
	rows, err := pool.Query(ctx, heldQuery, clientIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (heldDelivery, error) {
		var h heldDelivery
		err := row.Scan(&h.TaskRunID, &h.State, &h.AttemptedAt)
		return h, err
	})
}
