package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// problemContentType is RFC 9457's media type.
const problemContentType = "application/problem+json"

// problem is an RFC 9457 problem details document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors names each invalid field of a validation problem.
	Errors []jobspec.FieldError `json:"errors,omitempty"`
}

// apiError is an error with a public face: its kind, status and detail reach
// the client; cause is logged and never sent.
type apiError struct {
	status int
	// kind becomes the problem type "urn:herald:problem:<kind>".
	kind   string
	detail string
	fields []jobspec.FieldError
	cause  error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.detail + ": " + e.cause.Error()
	}
	return e.detail
}

func (e *apiError) Unwrap() error { return e.cause }

func badRequest(detail string, cause error) *apiError {
	return &apiError{status: http.StatusBadRequest, kind: "bad-request", detail: detail, cause: cause}
}

func notFound(what string) *apiError {
	return &apiError{status: http.StatusNotFound, kind: "not-found", detail: what + " not found"}
}

func fieldError(field, msg string) jobspec.FieldError {
	return jobspec.FieldError{Field: field, Message: msg}
}

// invalidFields is a validation problem naming each field; its detail is the
// first field's message so that a client printing only detail still helps.
func invalidFields(status int, fields ...jobspec.FieldError) *apiError {
	detail := fields[0].Field + ": " + fields[0].Message
	if len(fields) > 1 {
		detail += " (and more, see errors)"
	}
	return &apiError{status: status, kind: "validation", detail: detail, fields: fields}
}

// retryAfterUnavailable is the Retry-After of a 503 for a database that is
// away, in seconds.
const retryAfterUnavailable = "5"

// unavailableError is the public face of a database that is away: 503,
// try again in a few seconds. nil when err is something else.
func unavailableError(err error) *apiError {
	if !store.Unavailable(err) && !errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return &apiError{status: http.StatusServiceUnavailable, kind: "database-unavailable",
		detail: "the database is unreachable; nothing was changed, try again in a few seconds", cause: err}
}

// writeError sends err as problem+json. Errors without a public face are
// logged and answered with a bare 500; a database that is away is a 503
// with Retry-After.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			return // the client went away
		}
		if ae = unavailableError(err); ae != nil {
			logger.WarnContext(r.Context(), "database unreachable", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
			writeProblem(w, ae)
			return
		}
		logger.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		ae = &apiError{status: http.StatusInternalServerError, kind: "internal", detail: "internal error; the server log has the cause"}
	} else if ae.cause != nil {
		logger.DebugContext(r.Context(), "request refused", slog.String("path", r.URL.Path), slog.Any("error", ae.cause))
	}
	writeProblem(w, ae)
}

func writeProblem(w http.ResponseWriter, ae *apiError) {
	p := problem{
		Type:   "urn:herald:problem:" + ae.kind,
		Title:  http.StatusText(ae.status),
		Status: ae.status,
		Detail: ae.detail,
		Errors: ae.fields,
	}
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Set("Cache-Control", "no-store")
	if ae.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterUnavailable)
	}
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
