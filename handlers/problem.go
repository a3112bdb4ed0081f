package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/herald-sched/herald/internal/jobspec"
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

// writeError sends err as problem+json. Errors without a public face are
// logged and answered with a bare 500.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			return // the client went away
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
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
