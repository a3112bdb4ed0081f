package dbtest

import (
	"context"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// RoundTrips is a pgx tracer (pgxpool.Config.ConnConfig.Tracer) that
// records what a pool's connections send, one entry per round trip: a
// statement sent alone, or a batch's statements (pgx.Batch, and the
// pipelined transactions of store.Begin).
type RoundTrips struct {
	mu   sync.Mutex
	sent [][]string
}

// Take returns the round trips recorded since the last Take, each as its
// statements' SQL joined by " + ", and forgets them.
func (r *RoundTrips) Take() []string {
	return r.take(func(sql string) string { return sql })
}

// TakeNames is Take with each statement shown by its query name (the
// "-- name: X" of sqlc's queries, herald's and River's alike) or, without
// one, its first word (begin, commit).
func (r *RoundTrips) TakeNames() []string {
	return r.take(func(sql string) string {
		if _, rest, ok := strings.Cut(sql, "-- name: "); ok {
			return strings.Fields(rest)[0]
		}
		return strings.Fields(sql)[0]
	})
}

func (r *RoundTrips) take(show func(string) string) []string {
	r.mu.Lock()
	sent := r.sent
	r.sent = nil
	r.mu.Unlock()
	out := make([]string, len(sent))
	for i, trip := range sent {
		shown := make([]string, len(trip))
		for j, sql := range trip {
			shown[j] = show(sql)
		}
		out[i] = strings.Join(shown, " + ")
	}
	return out
}

func (r *RoundTrips) add(sql ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sql)
}

// TraceQueryStart records a statement sent alone.
func (r *RoundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.add(data.SQL)
	return ctx
}

// TraceQueryEnd is part of pgx.QueryTracer.
func (r *RoundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart records a batch.
func (r *RoundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	sql := make([]string, len(data.Batch.QueuedQueries))
	for i, q := range data.Batch.QueuedQueries {
		sql[i] = q.SQL
	}
	r.add(sql...)
	return ctx
}

// TraceBatchQuery is part of pgx.BatchTracer.
func (r *RoundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd is part of pgx.BatchTracer.
func (r *RoundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
