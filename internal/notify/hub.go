// Package notify carries PostgreSQL notifications (LISTEN/NOTIFY) to the
// goroutines of this process that wait for them, through one connection per
// process however many wait: a thousand devices long-polling one replica
// hold one connection between them, not a thousand.
//
// A notification is a wake-up, not a message: waiters look at the database
// when woken, and also every so often on their own, so that a notification
// lost while the connection was down costs a little latency, not a task.
// After the connection comes back, every waiter is woken once.
package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channels herald notifies on; a payload names what changed.
const (
	// DeviceOffers: a task was offered to the device named by the payload
	// (its id), for its long-polls.
	DeviceOffers = "herald_device_offers"
	// DeviceResults: the lease named by the payload has its result, for
	// the worker waiting for it.
	DeviceResults = "herald_device_results"
	// DeviceGone: the device named by the payload was declared offline or
	// deleted, for the workers with a task in flight on it.
	DeviceGone = "herald_device_gone"
)

// reconnectWait is the pause before listening again after a failure.
const reconnectWait = time.Second

// Hub is the process's listening connection and its waiters.
type Hub struct {
	pool     *pgxpool.Pool
	channels []string
	logger   *slog.Logger

	mu      sync.Mutex
	waiters map[key]map[*waiter]struct{}
}

type key struct{ channel, payload string }

type waiter struct{ ch chan struct{} }

// New returns a hub listening on channels; Run runs it.
func New(pool *pgxpool.Pool, logger *slog.Logger, channels ...string) *Hub {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{pool: pool, channels: channels, logger: logger, waiters: map[key]map[*waiter]struct{}{}}
}

// Wait returns a channel that receives when payload is notified on
// channel (or after a reconnection), and the function that stops waiting.
// The channel has room for one wake-up: none is lost while the waiter
// looks at the database.
func (h *Hub) Wait(channel, payload string) (<-chan struct{}, func()) {
	w := &waiter{ch: make(chan struct{}, 1)}
	k := key{channel, payload}
	h.mu.Lock()
	if h.waiters[k] == nil {
		h.waiters[k] = map[*waiter]struct{}{}
	}
	h.waiters[k][w] = struct{}{}
	h.mu.Unlock()
	return w.ch, func() {
		h.mu.Lock()
		delete(h.waiters[k], w)
		if len(h.waiters[k]) == 0 {
			delete(h.waiters, k)
		}
		h.mu.Unlock()
	}
}

// Waiting counts the waiters, for tests and metrics.
func (h *Hub) Waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ws := range h.waiters {
		n += len(ws)
	}
	return n
}

// Run listens until ctx ends, reconnecting after failures.
func (h *Hub) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := h.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		h.logger.WarnContext(ctx, "listening for notifications failed; listening again", slog.Any("error", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconnectWait):
		}
	}
}

// listen holds a connection of its own (not one of the pool's), listening
// on the hub's channels, and wakes the waiters of each notification.
func (h *Hub) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, h.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range h.channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	// Anything notified while nobody listened is looked for now.
	h.wakeAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		h.wake(key{n.Channel, n.Payload})
	}
}

func (h *Hub) wake(k key) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.waiters[k] {
		select {
		case w.ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

func (h *Hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.waiters {
		for w := range ws {
			select {
			case w.ch <- struct{}{}:
			default:
			}
		}
	}
}
