package heraldtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is one request a Receiver got.
type Request struct {
	// At is when the request's headers arrived.
	At     time.Time
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is a real HTTP server standing in for a device. Its Respond
// function chooses each answer; by default it answers 200.
type Receiver struct {
	*httptest.Server

	mu       sync.Mutex
	requests []Request
	respond  func(n int, r *Request, w http.ResponseWriter)
}

// NewReceiver starts a receiver; respond (nil: always 200) is called with the
// request's 1-based number and writes the answer.
func NewReceiver(t testing.TB, respond func(n int, r *Request, w http.ResponseWriter)) *Receiver {
	rc := &Receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Server.Close)
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	req := Request{At: at, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	rc.mu.Lock()
	rc.requests = append(rc.requests, req)
	n := len(rc.requests)
	rc.mu.Unlock()
	if rc.respond != nil {
		rc.respond(n, &req, w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Requests returns a copy of what the receiver got so far.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.requests...)
}

// Count is how many requests arrived.
func (rc *Receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}
