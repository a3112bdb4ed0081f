package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// published is what PostgreSQL's statistics views say so far, as each
// backend has published it: transactions ended, rows written by table.
type published struct {
	xacts  int64
	tables map[string]tableStat
}

// tableStat is a table's rows written so far.
type tableStat struct {
	inserted, updated, deleted int64
}

// Published reads the published statistics of the measured database now.
func (p *costProbe) Published(ctx context.Context) (*published, error) {
	s := &published{tables: map[string]tableStat{}}
	if err := p.admin.QueryRow(ctx, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datid = $1",
		p.dbOID).Scan(&s.xacts); err != nil {
		return nil, fmt.Errorf("read database statistics: %w", err)
	}
	rows, err := p.db.Query(ctx, `SELECT CASE WHEN schemaname = 'public' THEN relname ELSE schemaname || '.' || relname END,
		n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables /* `+probeMarker+` */`)
	if err != nil {
		return nil, fmt.Errorf("read table statistics: %w", err)
	}
	var name string
	var t tableStat
	if _, err := pgx.ForEachRow(rows, []any{&name, &t.inserted, &t.updated, &t.deleted}, func() error {
		s.tables[name] = t
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read table statistics: %w", err)
	}
	return s, nil
}

// steadyWindow is the published statistics at both ends of a window of
// steady load, and the units of work done in it.
type steadyWindow struct {
	from, to *published
	units    int64
}

// apply sets c's transactions per unit and, with rows, its rows written.
// The probe's own statistics query in the measured database, one
// transaction per reading, is left out.
func (w *steadyWindow) apply(c *cost, rows bool) {
	per := func(v int64) float64 { return float64(max(v, 0)) / float64(w.units) }
	c.Transactions = per(w.to.xacts - w.from.xacts - 1)
	if !rows {
		return
	}
	for name, t := range w.to.tables {
		old := w.from.tables[name]
		ins, upd, del := per(t.inserted-old.inserted), per(t.updated-old.updated), per(t.deleted-old.deleted)
		c.Inserted += ins
		c.Updated += upd
		c.Deleted += del
		if ins+upd+del > 0 {
			c.Tables = append(c.Tables, tablePart(name, ins, upd, del))
		}
	}
	c.Tables = topParts(c.Tables)
}
