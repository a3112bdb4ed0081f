package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// walGroup is the WAL records of one kind on one relation.
type walGroup struct {
	rmgr, kind string
	dbOID      uint32
	fileNode   uint32
	records    int64
	// tuples counts a multi-insert's rows (COPY); 1 per other record.
	tuples int64
}

// walRecordsQuery groups the WAL records from one position to the other by
// kind and by the relation of their first block (pg_walinspect, PostgreSQL
// 15: block_ref reads "blkref #0: rel <tablespace>/<database>/<file node>
// fork ..."; split_part is several times faster than a regular expression
// over millions of records).
const walRecordsQuery = `SELECT resource_manager, replace(record_type, '+INIT', ''),
		coalesce(nullif(split_part(split_part(block_ref, ' ', 4), '/', 2), ''), '0')::oid,
		coalesce(nullif(split_part(split_part(block_ref, ' ', 4), '/', 3), ''), '0')::oid,
		count(*)::bigint,
		sum(CASE WHEN record_type LIKE 'MULTI_INSERT%'
			THEN coalesce((regexp_match(description, 'ntuples: (\d+)'))[1]::bigint, 1) ELSE 1 END)::bigint
	FROM pg_get_wal_records_info('0/0'::pg_lsn + $1::numeric, '0/0'::pg_lsn + $2::numeric)
	GROUP BY 1, 2, 3, 4`

// walFlushWait bounds the wait for the WAL to be flushed up to a position
// (with synchronous_commit off, the WAL writer flushes every 200 ms).
const walFlushWait = 2 * time.Second

// readWAL reads the WAL records written from one position to the other and
// sets c's rows by table, index entries by index, commits and records by
// kind, per unit.
func (p *costProbe) readWAL(ctx context.Context, from, to int64, per func(float64) float64, c *cost) error {
	if err := p.waitFlushed(ctx, to); err != nil {
		return err
	}
	rows, err := p.admin.Query(ctx, walRecordsQuery, from, to)
	if err != nil {
		return fmt.Errorf("read the WAL (pg_walinspect): %w", err)
	}
	var groups []walGroup
	var g walGroup
	if _, err := pgx.ForEachRow(rows, []any{&g.rmgr, &g.kind, &g.dbOID, &g.fileNode, &g.records, &g.tuples}, func() error {
		groups = append(groups, g)
		return nil
	}); err != nil {
		return fmt.Errorf("read the WAL (pg_walinspect): %w", err)
	}
	names, err := p.relationNames(ctx, groups)
	if err != nil {
		return err
	}

	type rowCounts struct{ ins, upd, del int64 }
	tables := map[string]*rowCounts{}
	indexes := map[string]int64{}
	kinds := map[string]int64{}
	var records, entries, commits int64
	for _, g := range groups {
		records += g.records
		kinds[g.rmgr+"/"+g.kind] += g.records
		name := names[g.fileNode]
		if g.dbOID != p.dbOID {
			name = "(other databases, shared catalogs)"
		}
		switch {
		case g.rmgr == "Transaction" && strings.HasPrefix(g.kind, "COMMIT"):
			commits += g.records
		case isIndexEntry(g.rmgr, g.kind):
			entries += g.records
			indexes[name] += g.records
		case g.rmgr == "Heap" || g.rmgr == "Heap2":
			t := tables[name]
			if t == nil {
				t = &rowCounts{}
			}
			switch g.kind {
			case "INSERT", "MULTI_INSERT":
				t.ins += g.tuples
			case "UPDATE", "HOT_UPDATE":
				t.upd += g.records
			case "DELETE":
				t.del += g.records
			default:
				continue // locks, pruning, visibility: in the kinds only
			}
			tables[name] = t
		}
	}
	c.RowsExact = true
	for name, t := range tables {
		ins, upd, del := per(float64(t.ins)), per(float64(t.upd)), per(float64(t.del))
		c.Inserted += ins
		c.Updated += upd
		c.Deleted += del
		c.Tables = append(c.Tables, tablePart(name, ins, upd, del))
	}
	for name, n := range indexes {
		c.Indexes = append(c.Indexes, part{Name: name, Value: per(float64(n))})
	}
	for kind, n := range kinds {
		c.WALKinds = append(c.WALKinds, part{Name: kind, Value: per(float64(n))})
	}
	c.Tables, c.Indexes, c.WALKinds = topParts(c.Tables), topParts(c.Indexes), topParts(c.WALKinds)
	c.WALRecords, c.IndexEntries, c.Commits = per(float64(records)), per(float64(entries)), per(float64(commits))
	return nil
}

// isIndexEntry reports whether a WAL record inserts index entries: B-tree
// leaf inserts (and inserts that split a posting list), hash inserts, and
// GIN pending-list inserts (fastupdate, the default: one UPDATE_META_PAGE
// record per row version, whatever its keys). The pending list's later
// move into the GIN index (Gin/INSERT) moves entries already counted: it
// shows among the records by kind only.
func isIndexEntry(rmgr, kind string) bool {
	switch rmgr {
	case "Btree":
		return kind == "INSERT_LEAF" || kind == "INSERT_POST"
	case "Hash":
		return kind == "INSERT"
	case "Gin":
		return kind == "UPDATE_META_PAGE"
	}
	return false
}

// relationNames names the measured database's relations among the WAL
// groups, by file node: a table by its name, an index by its name and its
// table's.
func (p *costProbe) relationNames(ctx context.Context, groups []walGroup) (map[uint32]string, error) {
	var nodes []uint32
	for _, g := range groups {
		if g.dbOID == p.dbOID && g.fileNode != 0 {
			nodes = append(nodes, g.fileNode)
		}
	}
	rows, err := p.db.Query(ctx, `SELECT n, coalesce(c.oid::regclass::text, 'file node ' || n),
			coalesce(' (index on ' || i.indrelid::regclass::text || ')', '')
		FROM unnest($1::oid[]) n
		LEFT JOIN pg_class c ON c.oid = pg_filenode_relation(0, n)
		LEFT JOIN pg_index i ON i.indexrelid = c.oid /* `+probeMarker+` */`, nodes)
	if err != nil {
		return nil, fmt.Errorf("name relations: %w", err)
	}
	out := map[uint32]string{}
	var node uint32
	var name, on string
	if _, err := pgx.ForEachRow(rows, []any{&node, &name, &on}, func() error {
		out[node] = name + on
		return nil
	}); err != nil {
		return nil, fmt.Errorf("name relations: %w", err)
	}
	return out, nil
}

// waitFlushed waits until the WAL is flushed up to lsn: pg_walinspect reads
// only flushed WAL.
func (p *costProbe) waitFlushed(ctx context.Context, lsn int64) error {
	deadline := time.Now().Add(walFlushWait)
	for {
		var flushed int64
		if err := p.admin.QueryRow(ctx, "SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint").Scan(&flushed); err != nil {
			return fmt.Errorf("read the WAL flush position: %w", err)
		}
		if flushed >= lsn || time.Now().After(deadline) {
			return nil
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}
