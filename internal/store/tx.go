package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Begin starts a transaction on a connection of pool whose BEGIN is sent
// with its first statement, in one round trip, instead of in a round trip
// of its own as pgxpool.Pool.Begin does: a transaction of n statements
// costs n+1 round trips (its statements and COMMIT) rather than n+2. On
// the delivery path, where transactions hold a few statements each, that
// is about a fifth of the round trips, each one a context switch for
// herald and for its PostgreSQL backend.
//
// Once its first statement is sent it is pgx's own transaction (begun by
// pgx.Batch.BeginTx): Commit commits (pgx.ErrTxCommitRollback when
// PostgreSQL rolled it back instead), Rollback after Commit is a no-op
// (pgx.ErrTxClosed), Begin opens a savepoint. The connection goes back to
// the pool when it ends (closed instead if it is left inside a transaction,
// by pgxpool's release). A transaction that sent no statement sends nothing
// at its end.
//
// What pipelining changes: an error of BEGIN itself comes back from the
// first statement, and a statement's result set read with Query must be
// read to its end or closed before the next statement, as pgx requires of
// any result set.
func Begin(ctx context.Context, pool *pgxpool.Pool) (pgx.Tx, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &pipelinedTx{conn: conn}, nil
}

// BeginFunc runs fn in a transaction of Begin, committed when fn returns nil
// and rolled back otherwise, as pgx.BeginFunc does.
func BeginFunc(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pipelined{pool}, fn)
}

// pipelined is a pool whose transactions are Begin's.
type pipelined struct{ pool *pgxpool.Pool }

func (p pipelined) Begin(ctx context.Context) (pgx.Tx, error) { return Begin(ctx, p.pool) }

// Later is tx for statements whose only result is their error (sqlc's
// :exec queries): when tx is Begin's, such a statement is not sent on its
// own but with the transaction's next statement or its COMMIT, in the same
// round trip, and its error is returned by that statement or by Commit
// (which then rolls the transaction back). Reads through Later go out at
// once, after what it holds. For any other tx, Later is tx.
//
// It is for writes that nothing after them in the transaction reads, such
// as its audit rows, or the runs of a trigger batch, which only River's
// insert of their deliveries follows.
//
// Later's transaction is a pgx.Tx, so that it can be handed to code that
// takes one: River's InsertManyTx, whose NOTIFY of the inserted jobs
// (PGNotifyMany, an Exec) then goes out with COMMIT.
func Later(tx pgx.Tx) pgx.Tx {
	if p, ok := tx.(*pipelinedTx); ok {
		return later{p}
	}
	return tx
}

// later is a pipelinedTx whose Exec holds the statement.
type later struct{ *pipelinedTx }

func (l later) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.conn == nil {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	l.later = append(l.later, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	return pgconn.CommandTag{}, nil
}

// Blind is Later for a query whose rows its caller does not read: the
// statement waits for the transaction's next statement or its COMMIT, as
// Later's do, and Query returns no rows (nil slices from sqlc's :many
// queries); its error comes back as Later's do. For any other tx, Blind is
// tx, and the rows come back as usual.
func Blind(tx pgx.Tx) DBTX {
	if p, ok := tx.(*pipelinedTx); ok {
		return blind{later{p}}
	}
	return tx
}

type blind struct{ later }

func (b blind) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if _, err := b.Exec(ctx, sql, args...); err != nil {
		return nil, err
	}
	return noRows{}, nil
}

// noRows is a result with no rows.
type noRows struct{}

func (noRows) Close()                                       {}
func (noRows) Err() error                                   { return nil }
func (noRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (noRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (noRows) Next() bool                                   { return false }
func (noRows) Scan(...any) error                            { return pgx.ErrNoRows }
func (noRows) Values() ([]any, error)                       { return nil, pgx.ErrNoRows }
func (noRows) RawValues() [][]byte                          { return nil }
func (noRows) Conn() *pgx.Conn                              { return nil }
func (noRows) TypeMap() *pgtype.Map                         { return nil }

// pipelinedTx is Begin's transaction: conn until its first statement,
// then the transaction pgx began with that statement (pgx.Batch.BeginTx),
// which it delegates to. later holds the statements of Later not sent yet.
// conn is nil once the transaction has ended.
type pipelinedTx struct {
	conn  *pgxpool.Conn
	tx    pgx.Tx
	later []*pgx.QueuedQuery
}

var _ pgx.Tx = (*pipelinedTx)(nil)

// direct is whether a statement can go on its own: BEGIN sent and nothing
// held by Later.
func (tx *pipelinedTx) direct() bool { return tx.tx != nil && len(tx.later) == 0 }

// send sends, in one round trip, BEGIN if it has not been sent, the
// statements Later holds and the queries of b; it reads the results of the
// first two and returns b's, for the caller to read and close before the
// transaction's next statement.
func (tx *pipelinedTx) send(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	with := &pgx.Batch{}
	begin := tx.tx == nil
	if begin {
		with.BeginTx(pgx.TxOptions{})
	}
	held := len(tx.later)
	with.QueuedQueries = append(with.QueuedQueries, tx.later...)
	with.QueuedQueries = append(with.QueuedQueries, b.QueuedQueries...)
	tx.later = nil
	var br pgx.BatchResults
	if begin {
		br = tx.conn.SendBatch(ctx, with)
		tx.tx = br.Tx()
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return pgx.FailedBatchResults(b, err)
		}
	} else {
		br = tx.tx.SendBatch(ctx, with)
	}
	for range held {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return pgx.FailedBatchResults(b, err)
		}
	}
	return br
}

// begun is the transaction, with BEGIN and what Later holds sent, for what
// cannot go in a batch.
func (tx *pipelinedTx) begun(ctx context.Context) (pgx.Tx, error) {
	if tx.conn == nil {
		return nil, pgx.ErrTxClosed
	}
	if !tx.direct() {
		if err := tx.send(ctx, &pgx.Batch{}).Close(); err != nil {
			return nil, err
		}
	}
	return tx.tx, nil
}

func (tx *pipelinedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if tx.conn == nil {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	if tx.direct() {
		return tx.tx.Exec(ctx, sql, args...)
	}
	br := tx.send(ctx, single(sql, args))
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (tx *pipelinedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if tx.conn == nil {
		return nil, pgx.ErrTxClosed
	}
	if tx.direct() {
		return tx.tx.Query(ctx, sql, args...)
	}
	br := tx.send(ctx, single(sql, args))
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (tx *pipelinedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if tx.conn == nil {
		return errRow{pgx.ErrTxClosed}
	}
	if tx.direct() {
		return tx.tx.QueryRow(ctx, sql, args...)
	}
	br := tx.send(ctx, single(sql, args))
	return batchRow{Row: br.QueryRow(), br: br}
}

func (tx *pipelinedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if tx.conn == nil {
		return pgx.FailedBatchResults(b, pgx.ErrTxClosed)
	}
	if tx.direct() {
		return tx.tx.SendBatch(ctx, b)
	}
	return tx.send(ctx, b)
}

func (tx *pipelinedTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	t, err := tx.begun(ctx)
	if err != nil {
		return 0, err
	}
	return t.CopyFrom(ctx, table, columns, src)
}

func (tx *pipelinedTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if tx.conn == nil {
		return nil, pgx.ErrTxClosed
	}
	return tx.conn.Conn().Prepare(ctx, name, sql)
}

// Begin opens a savepoint, after BEGIN and what Later holds.
func (tx *pipelinedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	t, err := tx.begun(ctx)
	if err != nil {
		return nil, err
	}
	return t.Begin(ctx)
}

// LargeObjects is the transaction's large objects once a statement has
// begun it; herald keeps none.
func (tx *pipelinedTx) LargeObjects() pgx.LargeObjects {
	if tx.tx == nil {
		return pgx.LargeObjects{}
	}
	return tx.tx.LargeObjects()
}

func (tx *pipelinedTx) Conn() *pgx.Conn {
	if tx.conn == nil {
		return nil
	}
	return tx.conn.Conn()
}

// Commit commits the transaction, when a statement began it, sending what
// Later holds with COMMIT; if one of those fails, the transaction is rolled
// back and Commit returns its error.
func (tx *pipelinedTx) Commit(ctx context.Context) error {
	if tx.conn == nil {
		return pgx.ErrTxClosed
	}
	if len(tx.later) == 0 {
		return tx.end(ctx, pgx.Tx.Commit)
	}
	tag, err := tx.Exec(ctx, "commit") // with what Later holds
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	if err != nil {
		_ = tx.end(ctx, pgx.Tx.Rollback)
		return err
	}
	// COMMIT went in the batch: the connection is out of the transaction,
	// and pgx's is not told, so it is not used again.
	tx.conn.Release()
	tx.conn = nil
	return nil
}

// Rollback rolls back the transaction, dropping what Later holds.
func (tx *pipelinedTx) Rollback(ctx context.Context) error {
	tx.later = nil
	return tx.end(ctx, pgx.Tx.Rollback)
}

// end commits or rolls back the transaction, when a statement began it, and
// gives the connection back to the pool, which closes it if a failed COMMIT
// or ROLLBACK left it inside the transaction.
func (tx *pipelinedTx) end(ctx context.Context, how func(pgx.Tx, context.Context) error) error {
	if tx.conn == nil {
		return pgx.ErrTxClosed
	}
	var err error
	if tx.tx != nil {
		err = how(tx.tx, ctx)
	}
	tx.conn.Release()
	tx.conn = nil
	return err
}

func single(sql string, args []any) *pgx.Batch {
	return &pgx.Batch{QueuedQueries: []*pgx.QueuedQuery{{SQL: sql, Arguments: args}}}
}

// batchRows is the result set of a transaction's first statement: closing
// it (or reading it to its end) also closes the batch it came in, so that
// the connection takes the next statement.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// batchRow is the row of a transaction's first statement read by QueryRow.
type batchRow struct {
	pgx.Row
	br pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a row that failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
