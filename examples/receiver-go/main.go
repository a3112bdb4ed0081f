// Command receiver-go is a webhook receiver for herald in Go: it verifies
// each request's Standard Webhooks signature with the official library
// (github.com/standard-webhooks/standard-webhooks/libraries/go) and handles
// each webhook-id once, however often herald delivers it (at least once:
// retries and redeliveries carry the same webhook-id).
//
//	HERALD_WEBHOOK_SECRET=whsec_... go run ./examples/receiver-go --addr 127.0.0.1:9000
//
// It prints one JSON line per request: {"event": "received" | "duplicate" |
// "rejected", ...}, and first {"event": "listening", "port": N}.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "Listen address (port 0: any free port).")
	flag.Parse()
	if err := run(*addr, os.Getenv("HERALD_WEBHOOK_SECRET"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "receiver-go:", err)
		os.Exit(1)
	}
}

func run(addr, secret string, out io.Writer) error {
	if secret == "" {
		return errors.New("set HERALD_WEBHOOK_SECRET to the job's signing secret (whsec_...)")
	}
	rc, err := newReceiver(secret, out)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	rc.log(event{Event: "listening", Port: ln.Addr().(*net.TCPAddr).Port})
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// receiver verifies webhooks and handles each webhook-id once.
type receiver struct {
	wh *standardwebhooks.Webhook

	mu     sync.Mutex
	out    *json.Encoder
	seen   map[string]time.Time // webhook-id: when it was handled
	pruned time.Time
}

// keepIDs is how long a webhook-id is remembered. A real receiver records
// the id in its database, in the transaction that does the work.
const keepIDs = 24 * time.Hour

// event is a line of the receiver's output.
type event struct {
	Event     string          `json:"event"`
	Port      int             `json:"port,omitempty"`
	WebhookID string          `json:"webhook_id,omitempty"`
	Task      string          `json:"task,omitempty"`
	Attempt   string          `json:"attempt,omitempty"`
	Body      json.RawMessage `json:"body,omitempty"`
	Reason    string          `json:"reason,omitempty"`
}

func newReceiver(secret string, out io.Writer) (*receiver, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("HERALD_WEBHOOK_SECRET: %w", err)
	}
	return &receiver{wh: wh, out: json.NewEncoder(out), seen: map[string]time.Time{}}, nil
}

func (rc *receiver) log(e event) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	_ = rc.out.Encode(e)
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	// Verify checks the signature over webhook-id, webhook-timestamp and
	// the body exactly as received, and that the timestamp is recent (so a
	// captured request cannot be replayed later).
	if err := rc.wh.Verify(body, r.Header); err != nil {
		rc.log(event{Event: "rejected", WebhookID: r.Header.Get("webhook-id"), Reason: err.Error()})
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("webhook-id")
	if !rc.first(id) {
		// Handled already: answer success so that herald stops retrying.
		rc.log(event{Event: "duplicate", WebhookID: id})
		w.WriteHeader(http.StatusOK)
		return
	}
	e := event{Event: "received", WebhookID: id, Task: r.Header.Get("Herald-Task"), Attempt: r.Header.Get("Herald-Attempt")}
	if json.Valid(body) {
		e.Body = body
	}
	rc.log(e)
	w.WriteHeader(http.StatusOK)
}

// first records id and reports whether it was new; ids older than keepIDs
// are forgotten.
func (rc *receiver) first(id string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	now := time.Now()
	if now.Sub(rc.pruned) > time.Minute {
		for seen, at := range rc.seen {
			if now.Sub(at) > keepIDs {
				delete(rc.seen, seen)
			}
		}
		rc.pruned = now
	}
	if _, dup := rc.seen[id]; dup {
		return false
	}
	rc.seen[id] = now
	return true
}
