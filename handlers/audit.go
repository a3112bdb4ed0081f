package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/access"
)

// The audit log: every write through the API with a key (POST, PUT, PATCH,
// DELETE; the pages' forms too) leaves exactly one row. A write that
// commits records its row in its own transaction (auditInTx, called by the
// write adapters); any other (refused, failed, or written without one of
// those adapters) is recorded by auditWrites when its answer has gone, with
// the status answered and a refusal's detail. Devices' own traffic
// (heartbeats, pulls) is not audited: it is not an operator's write.

type auditKey struct{}

// auditSlot follows one write request: whether its row was written in the
// write's transaction, and what the request was.
type auditSlot struct {
	recorded bool
	object   string
}

// auditWrites records the audit row of a write request that its handler did
// not record in a transaction.
func (a *API) auditWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		slot := &auditSlot{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), auditKey{}, slot)))
		if slot.recorded {
			return
		}
		e := a.auditEntry(r.Context(), r, rec.status, slot.object)
		if rec.status >= 400 {
			var p problem
			if json.Unmarshal(rec.body.Bytes(), &p) == nil {
				e.Detail = p.Detail
			}
		}
		// Not the request's context: it may be done, and the row must be
		// written all the same.
		if err := access.Audit(context.WithoutCancel(r.Context()), a.pool, e); err != nil {
			a.logger.ErrorContext(r.Context(), "audit row not written", "error", err, "action", e.Action, "status", e.Status)
		}
	})
}

// auditInTx records the audit row of the request in ctx in tx, the write's
// transaction, with status and the object written (resp's id when it has
// a location). It does nothing outside a write request.
func (a *API) auditInTx(ctx context.Context, tx pgx.Tx, status int, object string) error {
	slot, ok := ctx.Value(auditKey{}).(*auditSlot)
	if !ok || slot.recorded {
		return nil
	}
	r := requestOf(ctx)
	if r == nil {
		return nil
	}
	if object == "" {
		object = slot.object
	}
	if err := access.Audit(ctx, tx, a.auditEntry(ctx, r, status, object)); err != nil {
		return err
	}
	slot.recorded = true
	return nil
}

// auditEntry is the row of request r answered status; ctx, r's context as
// the handler has it, knows who made it.
func (a *API) auditEntry(ctx context.Context, r *http.Request, status int, object string) *access.Entry {
	action := r.Method + " " + r.URL.Path
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		action = r.Method + " " + rc.RoutePattern()
		if object == "" {
			object = objectOfRoute(rc)
		}
	}
	return &access.Entry{
		Principal: principal(ctx), Action: action, ObjectID: object, Status: status,
		RequestID: middleware.GetReqID(r.Context()),
	}
}

// objectOfRoute is the object a route names: its job, run, key or device.
func objectOfRoute(rc *chi.Context) string {
	for _, name := range []string{"runID", "jobID", "keyID", "deviceID"} {
		if v := rc.URLParam(name); v != "" {
			return v
		}
	}
	return ""
}

// objectOf is the id of a created object: the last segment of its location.
func objectOf(resp any) string {
	if l, ok := resp.(interface{ location() string }); ok {
		loc := l.location()
		return loc[strings.LastIndexByte(loc, '/')+1:]
	}
	return ""
}

type requestKey struct{}

// withRequest keeps the request in its own context, for auditInTx.
func withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), requestKey{}, r)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

// statusRecorder remembers the status answered, and the start of an error's
// body (its problem's detail).
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	if s.status >= 400 && s.body.Len() < 4<<10 {
		s.body.Write(b[:min(len(b), 4<<10-s.body.Len())])
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets an event stream through.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// batchAudit is the audit row of a write whose batch records it (triggers,
// registrations), answered with status; nil outside a write request or
// when the request's row is already written.
func (a *API) batchAudit(ctx context.Context, status int) *access.Entry {
	slot, ok := ctx.Value(auditKey{}).(*auditSlot)
	if !ok || slot.recorded {
		return nil
	}
	if r := requestOf(ctx); r != nil {
		return a.auditEntry(ctx, r, status, "")
	}
	return nil
}

// auditedWithBatch marks the request's audit row written, when its batch
// wrote e.
func auditedWithBatch(ctx context.Context, e *access.Entry) {
	if e != nil {
		ctx.Value(auditKey{}).(*auditSlot).recorded = true
	}
}
