package device

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/store"
)

// sweepBatch bounds the devices declared offline in one transaction.
const sweepBatch = 1000

// Sweeper declares offline the devices silent past the device timeout, each
// once whatever the number of replicas sweeping (row locks, SKIP LOCKED),
// and has what was placed on them placed again: the workers with a request
// in flight on one hear it (notify.DeviceGone, sent when the transaction
// commits), abandon the request and place the task again at once. It
// is a replica.Sweeper: it judges only when its replica has heartbeated
// without a break for longer than the timeout, so that a database outage,
// which silences every device's heartbeat too, takes no device offline.
type Sweeper struct {
	// Pool is the database.
	Pool *pgxpool.Pool
	// Timeout is the device timeout. Default DefaultTimeout.
	Timeout time.Duration
	// Logger receives a line per device declared offline. Default discards.
	Logger *slog.Logger
}

// Sweep implements replica.Sweeper.
func (s *Sweeper) Sweep(ctx context.Context, healthy time.Duration) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if healthy <= timeout {
		return nil
	}
	for {
		n, err := s.sweepOnce(ctx, timeout)
		if err != nil || n < sweepBatch {
			return err
		}
	}
}

func (s *Sweeper) sweepOnce(ctx context.Context, timeout time.Duration) (int, error) {
	var gone []store.DeclareDevicesOfflineRow
	err := store.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		gone, err = store.New(tx).DeclareDevicesOffline(ctx, store.DeclareDevicesOfflineParams{TimeoutSeconds: timeout.Seconds(), MaxRows: sweepBatch})
		if err != nil || len(gone) == 0 {
			return err
		}
		ids := make([]uuid.UUID, len(gone))
		for i, d := range gone {
			ids[i] = d.ID
		}
		if err := notifyGone(ctx, tx, ids); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("declare devices offline: %w", err)
	}
	if s.Logger != nil {
		for _, d := range gone {
			s.Logger.InfoContext(ctx, "device offline: no heartbeat within the device timeout",
				slog.String("device", d.ID.String()), slog.String("name", d.Name), slog.String("timeout", timeout.String()))
		}
	}
	return len(gone), nil
}

// notifyGone tells the workers with tasks in flight on devices, when tx
// commits, that the devices are gone (offline or deleted).
func notifyGone(ctx context.Context, db store.DBTX, ids []uuid.UUID) error {
	if _, err := db.Exec(ctx, "SELECT pg_notify($1, id::text) FROM unnest($2::uuid[]) AS id", notify.DeviceGone, ids); err != nil {
		return fmt.Errorf("notify devices gone: %w", err)
	}
	return nil
}
