package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// costParts is how many items a cost figure keeps in its breakdown
	// (the JSON); the table prints the first costPartsShown.
	costParts      = 20
	costPartsShown = 6
	// probeMarker tags the probe's own queries, so that they are left out
	// of the statements counted.
	probeMarker = "herald-bench cost probe"
	// quietPoll is how often a probe waiting for a quiet database reads
	// the WAL position.
	quietPoll = 50 * time.Millisecond
	// quietWAL and quietMax: the database is quiet when less than
	// quietWAL bytes of WAL were written over the size's Quiet (herald's
	// and River's idle writes are a few hundred bytes a second), or after
	// quietMax at most.
	quietWAL = 8 << 10
	quietMax = 10 * time.Second
)

// costProbe measures what PostgreSQL does for one database per unit of
// work (a delivery, a River job, a heartbeat). The caller marks a quiet
// point, runs its load through a steady window, waits until all the work
// it started is done, and asks for the cost since the mark:
//
//   - exactly, from the mark to the quiet point after the work: the
//     statements run and their execution time (pg_stat_statements, when
//     the server loads it, less what the idle database runs in that time,
//     measured at the first mark), the WAL written (pg_current_wal_lsn()),
//     and from the WAL itself (pg_walinspect, when installed), the rows
//     inserted, updated and deleted in each table, the entries inserted in
//     each index, the commits of transactions that wrote, and the records
//     by kind;
//   - from the statistics PostgreSQL publishes (pg_stat_database,
//     pg_stat_user_tables), over the steady window only: the transactions
//     ended, and the rows written when pg_walinspect is not there. A
//     backend publishes its counts about once a second while busy, and up
//     to 10 s late once idle, so these figures are read where the load is
//     steady at both ends (the lag then cancels out), not at quiet points;
//     over a window of a few seconds they are within about 10%.
//
// The WAL position is the whole server's: on a server shared with other
// work (DATABASE_URL) the WAL figures include theirs.
type costProbe struct {
	// admin connects to the server's maintenance database, where the
	// pg_stat_statements view and pg_walinspect's functions are.
	admin *pgxpool.Pool
	// db connects to the database measured (its own statistics views, its
	// relation names).
	db     *pgxpool.Pool
	dbName string
	dbOID  uint32
	// statements and walinspect say whether the extensions can be used.
	statements, walinspect bool
	logger                 *slog.Logger
	// quiet is how long the WAL must stay put for the database to be
	// quiet, and idleWindow how long the first mark watches the idle
	// database (size.Quiet, size.Idle).
	quiet, idleWindow time.Duration
	// idle is what the idle database does per second, measured at the
	// first mark.
	idle *statementTotal
	// slot holds, on a connection of its own, a temporary replication slot
	// that keeps the WAL from the last quiet point on from being recycled
	// before it is read; PostgreSQL drops it when the connection closes.
	slot     *pgx.Conn
	slotName string
}

// costMark is a quiet point: the exact counters then.
type costMark struct {
	at         time.Time
	lsn        int64
	statements map[statementKey]statementStat
}

// newCostProbe returns a probe of the scenario's database, url.
func (e *env) newCostProbe(ctx context.Context, url string) (*costProbe, error) {
	s := e.db
	pool, err := openPool(ctx, url, 1)
	if err != nil {
		return nil, err
	}
	p := &costProbe{
		admin: s.admin, db: pool, statements: s.statements, walinspect: s.walinspect, logger: e.logger,
		quiet: e.size.Quiet, idleWindow: e.size.Idle,
	}
	err = pool.QueryRow(ctx, "SELECT current_database(), oid FROM pg_database WHERE datname = current_database() /* "+probeMarker+" */").
		Scan(&p.dbName, &p.dbOID)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("cost probe: %w", err)
	}
	if p.walinspect {
		p.holdWAL(ctx, s.connString)
	}
	return p, nil
}

// holdWAL creates the probe's temporary replication slot. Without one (no
// REPLICATION privilege), a checkpoint may recycle WAL before it is read:
// the figures from the WAL are then left out.
func (p *costProbe) holdWAL(ctx context.Context, connString string) {
	conn, err := pgx.Connect(ctx, connString)
	if err == nil {
		p.slotName = "herald_bench_" + strings.ToLower(rand.Text())
		_, err = conn.Exec(ctx, "SELECT pg_create_physical_replication_slot($1, true, true)", p.slotName)
		if err != nil {
			_ = conn.Close(ctx)
		}
	}
	if err != nil {
		p.logger.WarnContext(ctx, "no replication slot: long windows may lose their WAL before it is read", slog.Any("error", err))
		return
	}
	p.slot = conn
}

// Close disconnects from the measured database, and drops the slot.
func (p *costProbe) Close() {
	p.db.Close()
	if p.slot != nil {
		_ = p.slot.Close(context.Background())
	}
}

// Mark waits until the database is quiet and returns the point. The first
// mark of a probe also measures the idle database for its idle window.
func (p *costProbe) Mark(ctx context.Context) (*costMark, error) {
	begin := time.Now()
	if err := p.waitQuiet(ctx); err != nil {
		return nil, err
	}
	p.logger.DebugContext(ctx, "database quiet", slog.Duration("took", time.Since(begin).Round(time.Millisecond)))
	m, err := p.mark(ctx)
	if err != nil || p.idle != nil || !p.statements {
		return m, err
	}
	if err := sleep(ctx, p.idleWindow); err != nil {
		return nil, err
	}
	m2, err := p.mark(ctx)
	if err != nil {
		return nil, err
	}
	idle, _ := statementsBetween(m, m2)
	secs := m2.at.Sub(m.at).Seconds()
	p.idle = &statementTotal{calls: int64(float64(idle.calls) / secs), ms: idle.ms / secs}
	return m2, nil
}

// waitQuiet waits until the WAL stops moving: the work started is done.
func (p *costProbe) waitQuiet(ctx context.Context) error {
	begin := time.Now()
	type point struct {
		at  time.Time
		lsn int64
	}
	var recent []point
	for time.Since(begin) < quietMax {
		var lsn int64
		if err := p.admin.QueryRow(ctx, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint").Scan(&lsn); err != nil {
			return fmt.Errorf("read the WAL position: %w", err)
		}
		now := time.Now()
		recent = append(recent, point{now, lsn})
		for len(recent) > 1 && now.Sub(recent[1].at) >= p.quiet {
			recent = recent[1:]
		}
		if now.Sub(recent[0].at) >= p.quiet && lsn-recent[0].lsn < quietWAL {
			return nil
		}
		if err := sleep(ctx, quietPoll); err != nil {
			return err
		}
	}
	p.logger.WarnContext(ctx, "the database did not quiet down: the cost figures may be off", slog.Duration("waited", quietMax))
	return nil
}

// mark reads the exact counters now.
func (p *costProbe) mark(ctx context.Context) (*costMark, error) {
	m := &costMark{}
	if err := p.admin.QueryRow(ctx, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, clock_timestamp()").Scan(&m.lsn, &m.at); err != nil {
		return nil, fmt.Errorf("read the WAL position: %w", err)
	}
	if p.statements {
		var err error
		if m.statements, err = p.readStatements(ctx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Cost waits until the database is quiet again and returns what it did
// per unit of work since from, the work having done units, with steady,
// the published statistics over the steady window; and the new quiet
// point, from which the next window may be measured.
func (p *costProbe) Cost(ctx context.Context, from *costMark, units int64, steady *steadyWindow) (*cost, *costMark, error) {
	to, err := p.Mark(ctx)
	if err != nil || units <= 0 {
		return nil, to, err
	}
	per := func(v float64) float64 { return max(v, 0) / float64(units) }
	secs := to.at.Sub(from.at).Seconds()
	c := &cost{
		Units:        units,
		Seconds:      secs,
		WALBytes:     per(float64(to.lsn - from.lsn)),
		Statements:   math.NaN(),
		StatementMs:  math.NaN(),
		WALRecords:   math.NaN(),
		IndexEntries: math.NaN(),
		Commits:      math.NaN(),
		Transactions: math.NaN(),
	}
	if p.statements {
		all, byName := statementsBetween(from, to)
		c.Statements = per(float64(all.calls) - float64(p.idle.calls)*secs)
		c.StatementMs = per(all.ms - p.idle.ms*secs)
		for name, t := range byName {
			if t.calls > 0 {
				c.TopStatements = append(c.TopStatements, part{Name: name, Value: per(float64(t.calls))})
			}
			c.StatementTimes = append(c.StatementTimes, part{Name: name, Value: per(t.ms)})
		}
		c.TopStatements = topParts(c.TopStatements)
		c.StatementTimes = topParts(c.StatementTimes)
	}
	if p.walinspect {
		begin := time.Now()
		if err := p.readWAL(ctx, from.lsn, to.lsn, per, c); err != nil {
			if ctx.Err() != nil {
				return nil, nil, err
			}
			p.logger.WarnContext(ctx, "the figures from the WAL are left out", slog.Any("error", err))
		}
		p.logger.DebugContext(ctx, "WAL read", slog.Int64("bytes", to.lsn-from.lsn), slog.Duration("took", time.Since(begin).Round(time.Millisecond)))
		p.releaseWAL(ctx, to.lsn)
	}
	if steady != nil && steady.units > 0 {
		steady.apply(c, !c.RowsExact)
	}
	return c, to, nil
}

// releaseWAL lets the WAL before lsn go: it has been read.
func (p *costProbe) releaseWAL(ctx context.Context, lsn int64) {
	if p.slot == nil {
		return
	}
	if _, err := p.slot.Exec(ctx, "SELECT pg_replication_slot_advance($1, '0/0'::pg_lsn + $2::numeric)", p.slotName, lsn); err != nil {
		p.logger.WarnContext(ctx, "the replication slot did not advance", slog.Any("error", err))
	}
}

// cost is what PostgreSQL did per unit of work. Figures that could not be
// read are NaN.
type cost struct {
	// Units is how many units of work were done, in Seconds from one
	// quiet point to the next.
	Units   int64
	Seconds float64
	// Statements are the statements run, without transaction control
	// (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE), and StatementMs the
	// server's execution time of all of them, per unit.
	Statements, StatementMs float64
	// Transactions are the transactions ended (committed or rolled back,
	// read-only ones included), per unit over the steady window; Commits
	// the commits of transactions that wrote (WAL commit records).
	Transactions, Commits float64
	// Inserted, Updated and Deleted are rows per unit, in all tables.
	Inserted, Updated, Deleted float64
	// RowsExact says the rows come from the WAL; otherwise from the
	// published statistics over the steady window.
	RowsExact bool
	// WALBytes is the WAL written per unit, WALRecords its records, and
	// IndexEntries the index entries inserted among them.
	WALBytes, WALRecords, IndexEntries float64
	// Tables are the rows written (inserted, updated, deleted) per unit
	// in each table, most first; Indexes the entries inserted per unit in
	// each index.
	Tables, Indexes []part
	// TopStatements are the calls per unit of the statements called most,
	// each named by its sqlc name when it has one.
	TopStatements []part
	// StatementTimes are the execution times per unit, in milliseconds, of
	// the statements that took most, transaction control (COMMIT: its
	// NOTIFY queue and its locks) included.
	StatementTimes []part
	// WALKinds are the WAL records per unit by kind, most first.
	WALKinds []part
}

// topParts sorts parts by value, largest first (then by name), and keeps
// the first costParts.
func topParts(parts []part) []part {
	slices.SortFunc(parts, func(a, b part) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Name, b.Name))
	})
	return parts[:min(len(parts), costParts)]
}

// formatPer renders a per-unit figure for a breakdown's name.
func formatPer(v float64) string {
	if v == 0 {
		return "0"
	}
	return formatValue(v, unitAverage)
}

// tablePart is a table's rows written per unit, with the split in its name.
func tablePart(name string, ins, upd, del float64) part {
	return part{
		Name:  fmt.Sprintf("%s (ins %s, upd %s, del %s)", name, formatPer(ins), formatPer(upd), formatPer(del)),
		Value: ins + upd + del,
	}
}

// costMetrics returns c's figures, each named "<label><figure> per
// <unit>", with its ratio to river's same figure when river is given, and
// how many units (plural: units) they were measured over. Figures that
// could not be read are left out.
func costMetrics(label, unit, units string, c, river *cost) []metric {
	if c == nil {
		return nil
	}
	if river == nil {
		river = &cost{}
	}
	name := func(figure string) string { return fmt.Sprintf("%s%s per %s", label, figure, unit) }
	var out []metric
	add := func(figure string, v, riverV float64, unit string, parts []part) {
		if !math.IsNaN(v) {
			out = append(out, newMetric(name(figure), v, unit).withRatio(riverV).withParts(parts))
		}
	}
	add("statements", c.Statements, river.Statements, unitAverage, c.TopStatements)
	add("statement time", c.StatementMs, river.StatementMs, unitMS, c.StatementTimes)
	add("transactions", c.Transactions, river.Transactions, unitAverage, nil)
	add("commits writing", c.Commits, river.Commits, unitAverage, nil)
	rows := "rows written"
	if !c.RowsExact {
		rows = "rows written (statistics)"
	}
	add(rows, c.Inserted+c.Updated+c.Deleted, river.Inserted+river.Updated+river.Deleted, unitAverage, c.Tables)
	add("rows inserted", c.Inserted, river.Inserted, unitAverage, nil)
	add("rows updated", c.Updated, river.Updated, unitAverage, nil)
	add("rows deleted", c.Deleted, river.Deleted, unitAverage, nil)
	add("index entries", c.IndexEntries, river.IndexEntries, unitAverage, c.Indexes)
	add("WAL", c.WALBytes, river.WALBytes, unitBytes, nil)
	add("WAL records", c.WALRecords, river.WALRecords, unitAverage, c.WALKinds)
	return append(out, newMetric(fmt.Sprintf("%s%s measured", label, units), float64(c.Units), unitCount))
}
