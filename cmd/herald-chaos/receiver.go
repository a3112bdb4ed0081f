package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

const (
	// fastPath answers at once, slowPath after the receiver's delay, so
	// that deliveries are in flight when a replica is killed or stopped.
	fastPath = "/fast"
	slowPath = "/slow"
	// receiverShutdown bounds closing the receiver.
	receiverShutdown = 5 * time.Second
)

// arrival is one request the receiver got.
type arrival struct {
	// At is when its headers had arrived; Done when it was answered, or
	// when the sender went away before the answer (Cut).
	At   time.Time `json:"at"`
	Done time.Time `json:"done"`
	// Path is the endpoint called (fastPath or slowPath).
	Path string `json:"path"`
	// WebhookID, Job, Run, Task, Attempt and ScheduledFor are the
	// Webhook-Id and Herald-* headers.
	WebhookID    string `json:"webhook_id"`
	Job          string `json:"job"`
	Run          string `json:"run"`
	Task         string `json:"task"`
	Attempt      string `json:"attempt"`
	ScheduledFor string `json:"scheduled_for"`
	// Cut reports that the sender closed the connection before the slow
	// endpoint answered: the sending replica died (or gave up) mid-request.
	Cut bool `json:"cut,omitempty"`
}

// receiver is the webhook target: an HTTP server on loopback that records
// every request and answers 200, at once or after a delay.
type receiver struct {
	srv  *http.Server
	base string
	// slow is how long slowPath takes to answer.
	slow time.Duration

	mu  sync.Mutex
	got []arrival
}

// startReceiver listens on a free loopback port.
func startReceiver(slow time.Duration, logger *slog.Logger) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &receiver{base: "http://" + ln.Addr().String(), slow: slow}
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

// URL is the URL of the endpoint at path.
func (rc *receiver) URL(path string) string { return rc.base + path }

// ServeHTTP records the request and answers 200 with a small JSON body
// (which downstream tasks of a DAG could refer to). A slow request whose
// sender goes away while it waits is recorded as cut.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := arrival{
		At:           time.Now(),
		Path:         r.URL.Path,
		WebhookID:    r.Header.Get("Webhook-Id"),
		Job:          r.Header.Get("Herald-Job"),
		Run:          r.Header.Get("Herald-Run"),
		Task:         r.Header.Get("Herald-Task"),
		Attempt:      r.Header.Get("Herald-Attempt"),
		ScheduledFor: r.Header.Get("Herald-Scheduled-For"),
	}
	_, _ = io.Copy(io.Discard, r.Body)
	if r.URL.Path == slowPath {
		timer := time.NewTimer(rc.slow)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			// The server cancels the context when the connection closes.
			timer.Stop()
			a.Cut = true
		}
	}
	a.Done = time.Now()
	// Recorded before the answer: a sender holding the answer finds it here.
	rc.mu.Lock()
	rc.got = append(rc.got, a)
	rc.mu.Unlock()
	if a.Cut {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// Arrivals returns a copy of what arrived so far, in the order requests were
// answered (or cut).
func (rc *receiver) Arrivals() []arrival {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]arrival(nil), rc.got...)
}

// WriteLog writes every arrival to path, one JSON object a line.
func (rc *receiver) WriteLog(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, a := range rc.Arrivals() {
		if err := enc.Encode(a); err != nil {
			return errors.Join(err, f.Close())
		}
	}
	return f.Close()
}

// Close stops the server, closing its connections.
func (rc *receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), receiverShutdown)
	defer cancel()
	if err := rc.srv.Shutdown(ctx); err != nil {
		return rc.srv.Close()
	}
	return nil
}
