package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// delivery is one request the receiver got, with herald's headers as sent.
type delivery struct {
	// At is when the request's headers had arrived (the handler started).
	At time.Time
	// Done is when the request had been read, just before the answer.
	Done time.Time
	// Job, Run, Task, ScheduledFor and WebhookID are the Herald-Job,
	// Herald-Run, Herald-Task, Herald-Scheduled-For and Webhook-Id headers.
	Job, Run, Task, ScheduledFor, WebhookID string
	// Path is the request's path: a push-mode device's own base path and
	// its task's path.
	Path string
}

// receiver is the webhook target of every scenario: an HTTP server on
// loopback that answers 204 at once on keep-alive connections and records
// each request. Recording takes a mutex and an append to a slice
// preallocated for the scenario's expected volume.
type receiver struct {
	srv  *http.Server
	base string
	// count is len(got), readable without the mutex.
	count atomic.Int64

	mu  sync.Mutex
	got []delivery
}

// startReceiver listens on a free loopback port; capacity is how many
// deliveries to make room for up front.
func startReceiver(capacity int, logger *slog.Logger) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &receiver{base: "http://" + ln.Addr().String(), got: make([]delivery, 0, capacity)}
	rc.srv = &http.Server{
		Handler:           rc,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := rc.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("receiver stopped", slog.Any("error", err))
		}
	}()
	return rc, nil
}

// URL is the URL tasks call.
func (rc *receiver) URL() string { return rc.base + "/hook" }

// Base is the receiver's URL without a path: every path is answered.
func (rc *receiver) Base() string { return rc.base }

// ServeHTTP records the request and answers 204 No Content.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	// Drain the body so that the connection can be reused.
	_, _ = io.Copy(io.Discard, r.Body)
	// Recorded before answering: a sender that has its answer finds its
	// request in Deliveries.
	d := delivery{
		At:           at,
		Done:         time.Now(),
		Job:          r.Header.Get("Herald-Job"),
		Run:          r.Header.Get("Herald-Run"),
		Task:         r.Header.Get("Herald-Task"),
		ScheduledFor: r.Header.Get("Herald-Scheduled-For"),
		WebhookID:    r.Header.Get("Webhook-Id"),
		Path:         r.URL.Path,
	}
	rc.mu.Lock()
	rc.got = append(rc.got, d)
	rc.mu.Unlock()
	rc.count.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// Count is how many requests arrived so far.
func (rc *receiver) Count() int64 { return rc.count.Load() }

// Deliveries returns a copy of what arrived so far, in arrival order.
func (rc *receiver) Deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// Close stops the server, closing its connections.
func (rc *receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rc.srv.Shutdown(ctx); err != nil {
		return rc.srv.Close()
	}
	return nil
}
