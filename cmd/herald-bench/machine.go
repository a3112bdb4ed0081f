package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the figures were measured.
type machine struct {
	// Cores is runtime.NumCPU(); CPU the processor's model name.
	Cores int    `json:"cores"`
	CPU   string `json:"cpu,omitempty"`
	OS    string `json:"os"`
	Arch  string `json:"arch"`
	// Go is the Go version the benchmark was built with.
	Go string `json:"go"`
	// PostgreSQL is the server's SELECT version(); PostgreSQLSettings the
	// settings that most move the figures.
	PostgreSQL         string            `json:"postgresql"`
	PostgreSQLSettings map[string]string `json:"postgresql_settings"`
	// Database says which server: DATABASE_URL's (redacted) or embedded.
	Database string `json:"database"`
	// CostStats says which extensions the cost figures use
	// (pg_stat_statements, pg_walinspect), and why not the others.
	CostStats string `json:"cost_stats"`
	// HostProbe is what the host charges for system calls and loopback
	// round trips, measured before the scenarios (hostProbe).
	HostProbe hostProbe `json:"host_probe"`
	// Herald is the VCS revision the herald binary was built from.
	Herald string `json:"herald"`
	// Date is when the run started (RFC 3339).
	Date string `json:"date"`
}

// describeMachine gathers the machine's description.
func describeMachine(ctx context.Context, db *dbServer, heraldBin string) (machine, error) {
	m := machine{
		Cores:     runtime.NumCPU(),
		CPU:       cpuModel(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		Go:        runtime.Version(),
		Database:  db.Source(),
		CostStats: db.statsNote,
		Herald:    heraldRevision(heraldBin),
		Date:      time.Now().UTC().Format(time.RFC3339),
	}
	var err error
	if m.HostProbe, err = probeHost(ctx); err != nil {
		return m, err
	}
	if m.PostgreSQL, err = db.Version(ctx); err != nil {
		return m, err
	}
	m.PostgreSQLSettings, err = db.Settings(ctx, []string{"max_connections", "shared_buffers", "fsync", "synchronous_commit"})
	return m, err
}

// cpuModel is the first "model name" of /proc/cpuinfo; empty elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// heraldRevision reads the VCS revision stamped into the binary by go
// build, "+modified" for a dirty tree; "unknown" without one.
func heraldRevision(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown"
	}
	rev, modified := "unknown", ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			modified = "+modified"
		}
	}
	return rev + modified
}
