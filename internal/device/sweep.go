package device

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
)

// sweepBatch bounds the devices declared offline in one transaction.
const sweepBatch = 1000

// Sweeper declares offline the devices silent past the device timeout, each
// once whatever the number of replicas sweeping (row locks, SKIP LOCKED),
// and has what was placed on them placed again in the same transaction. It
// is a replica.Sweeper: it judges only when its replica has heartbeated
// without a break for longer than the timeout, so that a database outage,
// which silences every device's heartbeat too, takes no device offline.
type Sweeper struct {
	// Pool is the database.
	Pool *pgxpool.Pool
	// Timeout is the device timeout. Default DefaultTimeout.
	Timeout time.Duration
	// Reclaim, when set, places again in tx what was placed on the devices
	// just declared offline, and returns how many deliveries it moved.
	Reclaim func(ctx context.Context, tx pgx.Tx, devices []uuid.UUID) (int, error)
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
	var (
		gone  []store.DeclareDevicesOfflineRow
		moved int
	)
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		gone, err = store.New(tx).DeclareDevicesOffline(ctx, store.DeclareDevicesOfflineParams{TimeoutSeconds: timeout.Seconds(), MaxRows: sweepBatch})
		if err != nil || len(gone) == 0 || s.Reclaim == nil {
			return err
		}
		ids := make([]uuid.UUID, len(gone))
		for i, d := range gone {
			ids[i] = d.ID
		}
		moved, err = s.Reclaim(ctx, tx, ids)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("declare devices offline: %w", err)
	}
	if s.Logger != nil {
		for _, d := range gone {
			s.Logger.InfoContext(ctx, "device offline: no heartbeat within the device timeout",
				slog.String("device", d.ID.String()), slog.String("name", d.Name), slog.String("timeout", timeout.String()))
		}
		if moved > 0 {
			s.Logger.InfoContext(ctx, "deliveries placed on devices gone offline are placed again", slog.Int("deliveries", moved))
		}
	}
	return len(gone), nil
}
