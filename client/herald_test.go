package client_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// exampleHerald is a whole herald (database, API, delivery workers) and a
// receiver for its webhooks, for one example. Examples get no testing.T, so
// it runs on an exampleTB.
type exampleHerald struct {
	// URL and APIKey are the server's.
	URL    string
	APIKey string
	// Receiver answers every webhook with 200, or 500 on /fail.
	Receiver string
	tb       *exampleTB
}

// startHerald starts a herald for an example; Stop stops it.
func startHerald() *exampleHerald {
	tb := newExampleTB()
	h := heraldtest.Start(tb, heraldtest.Options{})
	rc := heraldtest.NewReceiver(tb, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return &exampleHerald{URL: h.Server.URL, APIKey: heraldtest.APIKey, Receiver: rc.URL, tb: tb}
}

// Stop stops the herald and drops its database.
func (h *exampleHerald) Stop() { h.tb.stop() }

// exampleTB is the testing.TB given to heraldtest and dbtest on behalf of an
// example: a failure panics (which fails the example), and cleanups run at
// stop, last first, after its context ends, as the testing package does.
type exampleTB struct {
	// TB is nil: it only completes the interface (its unexported method);
	// heraldtest and dbtest use none of the methods not defined below.
	testing.TB
	ctx      context.Context
	cancel   context.CancelFunc
	cleanups []func()
}

func newExampleTB() *exampleTB {
	ctx, cancel := context.WithCancel(context.Background())
	return &exampleTB{ctx: ctx, cancel: cancel}
}

func (e *exampleTB) stop() {
	e.cancel()
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

func (e *exampleTB) Helper()                           {}
func (e *exampleTB) Name() string                      { return "example" }
func (e *exampleTB) Context() context.Context          { return e.ctx }
func (e *exampleTB) Cleanup(f func())                  { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) Logf(string, ...any)               {}
func (e *exampleTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (e *exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (e *exampleTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (e *exampleTB) FailNow()                          { panic("example set-up failed") }
