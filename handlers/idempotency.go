package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/access"
)

// maxIdempotencyKey bounds an Idempotency-Key header.
const maxIdempotencyKey = 255

// idempotent is write for a POST that is safe to retry with an
// Idempotency-Key header: the first request with a key runs its core in a
// transaction that also stores its successful response; a later one with
// the same key and the same request gets that response again (with
// Idempotent-Replayed: true), one with a different request 422, and one that
// arrives while the first is still running 409. Keys are scoped to the route
// and the caller's API key and kept 24 hours; failed requests (4xx, 5xx) are
// not stored, so a client can correct and resend them under the same key.
// Without the header, it is write; plain, when given, serves those requests
// instead (triggers and registrations without a key are batched).
func idempotent[Req, Resp any](a *API, status int, parse parseFunc[Req], execute writeCore[Req, Resp], plain http.HandlerFunc) http.HandlerFunc {
	if plain == nil {
		plain = write(a, status, parse, execute)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			plain(w, r)
			return
		}
		if !validIdempotencyKey(key) {
			writeProblem(w, invalidFields(http.StatusBadRequest, fieldError("Idempotency-Key", "must be 1-255 visible ASCII characters")))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
		if err != nil {
			writeError(w, r, a.logger, decodeReadError(err, a.maxBody))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		req := new(Req)
		if parse != nil {
			if err := parse(w, r, req); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
		}
		stored, replayed, err := access.Once(r.Context(), a.pool, idempotencyScope(r), key, requestHash(r, body), func(tx pgx.Tx) (*access.Response, error) {
			resp, err := execute(r.Context(), tx, req)
			if err != nil {
				return nil, err
			}
			if err := a.auditInTx(r.Context(), tx, status, objectOf(resp)); err != nil {
				return nil, err
			}
			return encodeStored(status, resp)
		})
		switch {
		case errors.Is(err, access.ErrInProgress):
			err = &apiError{status: http.StatusConflict, kind: "idempotency-in-progress", detail: "a request with this Idempotency-Key is still in progress; retry later"}
		case errors.Is(err, access.ErrKeyReused):
			err = invalidFields(http.StatusUnprocessableEntity, fieldError("Idempotency-Key", "was already used with a different request"))
		}
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		writeStored(w, stored, replayed)
	}
}

// idempotencyScope is the route and the caller: keys are scoped to them.
func idempotencyScope(r *http.Request) access.IdempotencyScope {
	return access.IdempotencyScope(r.Method + " " + r.URL.Path + " " + principal(r.Context()).Name)
}

// encodeStored is the response to keep for resp.
func encodeStored[Resp any](status int, resp *Resp) (*access.Response, error) {
	out := &access.Response{Status: status}
	if resp == nil {
		return out, nil
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	out.Body = append(body, '\n')
	if l, ok := any(resp).(interface{ location() string }); ok {
		loc := l.location()
		out.Location = &loc
	}
	return out, nil
}

// writeStored sends a kept response.
func writeStored(w http.ResponseWriter, s *access.Response, replayed bool) {
	if s.Location != nil {
		w.Header().Set("Location", *s.Location)
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if len(s.Body) == 0 {
		w.WriteHeader(s.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(s.Status)
	_, _ = w.Write(s.Body)
}

func validIdempotencyKey(k string) bool {
	if len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func requestHash(r *http.Request, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
	h.Write(body)
	return h.Sum(nil)
}
