package access

import (
	"bytes"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
)

// Errors of Once.
var (
	// ErrInProgress: a request with this key is running now.
	ErrInProgress = errors.New("a request with this Idempotency-Key is still in progress")
	// ErrKeyReused: the key was used with a different request.
	ErrKeyReused = errors.New("the Idempotency-Key was already used with a different request")
)

// Response is a response kept for an Idempotency-Key.
type Response struct {
	// Status is the HTTP status.
	Status int
	// Body is the response body; Location its Location header, if any.
	Body     []byte
	Location *string
}

// IdempotencyScope names the uses of keys that are one: the route and the
// caller.
type IdempotencyScope string

// Once runs do, in a transaction that also stores its response under key
// (kept 24 hours), unless key already has a response for the same request
// (hash), which it returns instead with replayed. Concurrent requests with
// one key are refused (ErrInProgress) under a transaction-scoped advisory
// lock; a key used for another request is ErrKeyReused. When do fails,
// nothing is stored, so the request can be corrected and resent.
func Once(ctx context.Context, pool *pgxpool.Pool, scope IdempotencyScope, key string, hash []byte, do func(pgx.Tx) (*Response, error)) (resp *Response, replayed bool, err error) {
	err = store.InTx(ctx, pool, func(tx pgx.Tx) error {
		resp, replayed = nil, false
		var got bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", string(scope)+"\n"+key).Scan(&got); err != nil {
			return err
		}
		if !got {
			return ErrInProgress
		}
		q := store.New(tx)
		prev, err := q.GetIdempotentResponse(ctx, store.GetIdempotentResponseParams{Scope: string(scope), Key: key})
		switch {
		case err == nil:
			if !bytes.Equal(prev.RequestHash, hash) {
				return ErrKeyReused
			}
			resp, replayed = &Response{Status: int(prev.Status), Body: prev.Response, Location: prev.Location}, true
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if resp, err = do(tx); err != nil {
			return err
		}
		if err := q.DeleteExpiredIdempotencyKeys(ctx); err != nil {
			return err
		}
		return q.SaveIdempotentResponse(ctx, store.SaveIdempotentResponseParams{
			Scope: string(scope), Key: key, RequestHash: hash, Status: int32(resp.Status), Location: resp.Location, Response: resp.Body,
		})
	})
	if err != nil {
		return nil, false, err
	}
	return resp, replayed, nil
}
