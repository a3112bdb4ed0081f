package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux architecture Go supports).
const userHZ = 100

// cpuTime returns the CPU time (user and system) process pid has used so
// far, from /proc/<pid>/stat (Linux).
func cpuTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time of process %d: %w", pid, err)
	}
	// The command, field 2, is in parentheses and may hold spaces: the
	// fields counted from 3 start after its closing parenthesis.
	_, rest, ok := strings.Cut(string(raw), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// cpuUse is the CPU time used so far by the processes of a scenario: the
// herald, the bench itself (receiver, feed, clients), and the PostgreSQL
// backends connected to the scenario's database, by process id, when they
// are local processes this user may read (the embedded server's are;
// otherwise backends is nil).
type cpuUse struct {
	at            time.Time
	herald, bench time.Duration
	backends      map[int32]time.Duration
}

// readCPU reads the CPU time used so far; the backends are listed in
// pg_stat_activity by the server's admin connection.
func readCPU(ctx context.Context, db *dbServer, dbURL string, heraldPID int) (cpuUse, error) {
	u := cpuUse{at: time.Now()}
	var err error
	if u.herald, err = cpuTime(heraldPID); err != nil {
		return u, err
	}
	if u.bench, err = cpuTime(os.Getpid()); err != nil {
		return u, err
	}
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return u, err
	}
	rows, err := db.admin.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", cfg.Database)
	if err != nil {
		return u, fmt.Errorf("list backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return u, fmt.Errorf("list backends: %w", err)
	}
	u.backends = make(map[int32]time.Duration, len(pids))
	for _, pid := range pids {
		t, err := cpuTime(int(pid))
		if err != nil { // another machine's server, or another user's
			u.backends = nil
			break
		}
		u.backends[pid] = t
	}
	return u, nil
}

// cores returns the cores used from a to b by herald, the bench and the
// database's backends: a backend that connected in between counts whole, one
// that ended in between is lost; NaN when they could not be read.
func cores(a, b cpuUse) (herald, bench, db float64) {
	secs := b.at.Sub(a.at).Seconds()
	herald = (b.herald - a.herald).Seconds() / secs
	bench = (b.bench - a.bench).Seconds() / secs
	if a.backends == nil || b.backends == nil {
		return herald, bench, math.NaN()
	}
	var used time.Duration
	for pid, t := range b.backends {
		used += t - a.backends[pid]
	}
	return herald, bench, used.Seconds() / secs
}
