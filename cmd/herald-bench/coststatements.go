package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// statementKey identifies a statement in pg_stat_statements.
type statementKey struct {
	queryID, userID int64
}

// statementStat is a statement's counters so far.
type statementStat struct {
	query string
	calls int64
	ms    float64 // total execution time
}

// statementTotal is calls and execution time.
type statementTotal struct {
	calls int64
	ms    float64
}

// readStatements reads the measured database's statements from
// pg_stat_statements, but the probe's own.
func (p *costProbe) readStatements(ctx context.Context) (map[statementKey]statementStat, error) {
	rows, err := p.admin.Query(ctx, `SELECT coalesce(s.queryid, 0), s.userid::bigint, min(s.query), sum(s.calls)::bigint, sum(s.total_exec_time)::float8
		FROM pg_stat_statements s WHERE s.dbid = $1 AND s.query NOT LIKE '%`+probeMarker+`%'
		GROUP BY 1, 2`, p.dbOID)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	out := map[statementKey]statementStat{}
	var key statementKey
	var st statementStat
	if _, err := pgx.ForEachRow(rows, []any{&key.queryID, &key.userID, &st.query, &st.calls, &st.ms}, func() error {
		out[key] = st
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	return out, nil
}

// statementsBetween returns the statements run from a to b, without
// transaction control, with the execution time of all, and the calls and
// time of each by name (transaction control by its first word, with its time
// and no calls).
func statementsBetween(a, b *costMark) (statementTotal, map[string]statementTotal) {
	var all statementTotal
	byName := map[string]statementTotal{}
	for key, st := range b.statements {
		n := st.calls - a.statements[key].calls
		if n <= 0 {
			continue
		}
		ms := st.ms - a.statements[key].ms
		all.ms += ms
		if word, ok := transactionControl(st.query); ok {
			t := byName[word]
			t.ms += ms
			byName[word] = t
			continue
		}
		all.calls += n
		t := byName[statementName(st.query)]
		t.calls += n
		t.ms += ms
		byName[statementName(st.query)] = t
	}
	return all, byName
}

// transactionControl reports whether query only begins or ends a
// transaction or a savepoint, and its first word.
func transactionControl(query string) (string, bool) {
	word, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	word = strings.ToUpper(strings.TrimRight(word, ";"))
	switch word {
	case "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "END":
		return word, true
	}
	return "", false
}

// sqlcName finds the name sqlc gives a query ("-- name: BeginAttempts :many").
var sqlcName = regexp.MustCompile(`--\s*name:\s*(\w+)`)

// maxStatementName bounds the name of a statement without a sqlc name.
const maxStatementName = 60

// statementName names a statement: its sqlc name, else its first words.
func statementName(query string) string {
	if m := sqlcName.FindStringSubmatch(query); m != nil {
		return m[1]
	}
	name := strings.Join(strings.Fields(query), " ")
	if len(name) > maxStatementName {
		name = name[:maxStatementName] + "…"
	}
	return name
}
