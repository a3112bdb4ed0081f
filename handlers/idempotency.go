package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/store"
)

type txKey struct{}

// inTx runs fn in a transaction: a savepoint of the request's transaction
// when there is one (an idempotent request), else a transaction of its own.
func (a *API) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return pgx.BeginFunc(ctx, tx, fn)
	}
	return pgx.BeginFunc(ctx, a.pool, fn)
}

// maxIdempotencyKey bounds an Idempotency-Key header.
const maxIdempotencyKey = 255

// idempotent makes a POST safe to retry with an Idempotency-Key header: the
// first request with a key runs, in a transaction that also stores its
// successful response; a later one with the same key and the same request
// gets that response again (with Idempotent-Replayed: true), one with a
// different request 422, and one that arrives while the first is still
// running 409. Keys are scoped to the route and the caller's API key and
// kept 24 hours; failed requests (4xx, 5xx) are not stored, so a client can
// correct and resend them under the same key.
func (a *API) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next.ServeHTTP(w, r)
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
		scope := r.Method + " " + r.URL.Path + " " + principal(r.Context())
		hash := requestHash(r, body)

		var rec *recorder
		err = pgx.BeginFunc(r.Context(), a.pool, func(tx pgx.Tx) error {
			var got bool
			if err := tx.QueryRow(r.Context(), "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", scope+"\n"+key).Scan(&got); err != nil {
				return err
			}
			if !got {
				return &apiError{status: http.StatusConflict, kind: "idempotency-in-progress", detail: "a request with this Idempotency-Key is still in progress; retry later"}
			}
			q := store.New(tx)
			prev, err := q.GetIdempotentResponse(r.Context(), store.GetIdempotentResponseParams{Scope: scope, Key: key})
			switch {
			case err == nil:
				if !bytes.Equal(prev.RequestHash, hash) {
					return invalidFields(http.StatusUnprocessableEntity, fieldError("Idempotency-Key", "was already used with a different request"))
				}
				rec = &recorder{status: int(prev.Status), body: *bytes.NewBuffer(prev.Response), header: http.Header{}, replayed: true}
				rec.header.Set("Content-Type", "application/json")
				if prev.Location != nil {
					rec.header.Set("Location", *prev.Location)
				}
				return nil
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
			rec = &recorder{status: http.StatusOK, header: http.Header{}}
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), txKey{}, tx)))
			if rec.status/100 != 2 {
				return errRolledBack
			}
			var location *string
			if l := rec.header.Get("Location"); l != "" {
				location = &l
			}
			if err := q.DeleteExpiredIdempotencyKeys(r.Context()); err != nil {
				return err
			}
			return q.SaveIdempotentResponse(r.Context(), store.SaveIdempotentResponseParams{
				Scope: scope, Key: key, RequestHash: hash, Status: int32(rec.status), Location: location, Response: rec.body.Bytes(),
			})
		})
		if err != nil && !errors.Is(err, errRolledBack) {
			writeError(w, r, a.logger, err)
			return
		}
		rec.writeTo(w)
	})
}

// errRolledBack rolls back a request that failed; its response is sent as is.
var errRolledBack = errors.New("request failed: rolled back")

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

// recorder buffers a response so that it can be stored before it is sent.
type recorder struct {
	status   int
	header   http.Header
	body     bytes.Buffer
	replayed bool
}

func (rc *recorder) Header() http.Header         { return rc.header }
func (rc *recorder) Write(b []byte) (int, error) { return rc.body.Write(b) }
func (rc *recorder) WriteHeader(status int)      { rc.status = status }

func (rc *recorder) writeTo(w http.ResponseWriter) {
	for k, v := range rc.header {
		w.Header()[k] = v
	}
	if rc.replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(rc.status)
	_, _ = w.Write(rc.body.Bytes())
}
