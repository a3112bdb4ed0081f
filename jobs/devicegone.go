package jobs

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/store"
)

// watchDevice returns ctx for an attempt in flight on dev, ended with the
// cause errDeviceLeft as soon as the device is declared offline or deleted
// (the sweeper's notification on notify.DeviceGone, confirmed in the
// database: a hub reconnecting wakes every waiter), so that the request is
// abandoned and the task placed again at once instead of waiting for its
// timeout. The device may have received the request: it is sent again with
// the same webhook-id (at least once). stop releases the watch.
func (w *DeliverWorker) watchDevice(ctx context.Context, dev *placed) (context.Context, func()) {
	if w.hub == nil {
		return ctx, func() {}
	}
	wake, stopWait := w.hub.Wait(notify.DeviceGone, dev.device.String())
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-wake:
				d, err := store.New(w.pool).GetDevice(ctx, dev.device)
				if errors.Is(err, pgx.ErrNoRows) || (err == nil && !d.Online) {
					cancel(errDeviceLeft)
					return
				}
			}
		}
	}()
	return ctx, func() {
		close(done)
		stopWait()
		cancel(nil)
	}
}

// deviceLeft reports whether ctx, from watchDevice, ended because its
// device went offline.
func deviceLeft(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errDeviceLeft)
}
