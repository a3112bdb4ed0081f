package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/pgembed"
	"github.com/herald-sched/herald/internal/pgurl"
)

// databasePrefix starts the name of every database the benchmark creates.
const databasePrefix = "herald_bench_"

// dbServer is the PostgreSQL server the scenarios get their fresh databases
// from: the one DATABASE_URL names, or an embedded one.
type dbServer struct {
	// connString connects to the server's maintenance database.
	connString string
	admin      *pgxpool.Pool
	// embedded is the embedded server, nil for DATABASE_URL's.
	embedded *pgembed.Server
	// dir is the embedded server's temporary directory.
	dir    string
	logger *slog.Logger
	// statements and walinspect say whether pg_stat_statements and
	// pg_walinspect can be used; statsNote says which, and why not.
	statements bool
	walinspect bool
	statsNote  string
}

// openDBServer connects to the server connString names or, when it is
// empty, starts an embedded PostgreSQL in a fresh temporary directory.
func openDBServer(ctx context.Context, connString string, logger *slog.Logger) (*dbServer, error) {
	s := &dbServer{connString: connString, logger: logger}
	if connString == "" {
		if err := s.startEmbedded(ctx); err != nil {
			return nil, err
		}
	}
	cfg, err := pgxpool.ParseConfig(s.connString)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("DATABASE_URL: %w", err), s.close())
	}
	cfg.MaxConns = 2
	if s.admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to PostgreSQL: %w", err), s.close())
	}
	if err := s.admin.Ping(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to PostgreSQL: %w", err), s.close())
	}
	if err := s.checkExtensions(ctx); err != nil {
		return nil, errors.Join(err, s.close())
	}
	return s, nil
}

// startEmbedded starts pgembed's server (unsafe but fast settings) in a
// temporary directory that close removes.
func (s *dbServer) startEmbedded(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "herald-bench-pg-")
	if err != nil {
		return err
	}
	// The server may run as another user (postgres, when we run as root).
	if err := os.Chmod(dir, 0o755); err != nil {
		return errors.Join(err, os.RemoveAll(dir))
	}
	s.dir = dir
	s.logger.InfoContext(ctx, "no DATABASE_URL: starting an embedded PostgreSQL", slog.String("dir", dir))
	cfg := pgembed.Config{
		DataDir:  filepath.Join(dir, "pg"),
		Database: "postgres",
		Fast:     true,
		Logger:   s.logger,
	}
	srv, err := pgembed.Start(ctx, cfg)
	if err != nil {
		return errors.Join(fmt.Errorf("embedded PostgreSQL: %w", err), os.RemoveAll(dir))
	}
	s.embedded, s.connString = srv, srv.URL()
	if err := s.preloadStatements(ctx, cfg); err != nil {
		return errors.Join(fmt.Errorf("embedded PostgreSQL: %w", err), s.close())
	}
	return nil
}

// preloadStatements makes the embedded server load pg_stat_statements, when
// it is installed: pgembed writes its own settings, so the library is set
// with ALTER SYSTEM (postgresql.auto.conf, read last) and the server
// restarted on the same data directory. Without the library installed, the
// server is left as it is and the cost figures go without statements.
func (s *dbServer) preloadStatements(ctx context.Context, cfg pgembed.Config) error {
	conn, err := pgx.Connect(ctx, s.connString)
	if err != nil {
		return err
	}
	var available bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = $1)", statementsExtension).Scan(&available)
	if err == nil && available {
		_, err = conn.Exec(ctx, "ALTER SYSTEM SET shared_preload_libraries = "+statementsExtension)
	}
	if cerr := conn.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil || !available {
		return err
	}
	if err := s.embedded.Stop(ctx); err != nil {
		return err
	}
	srv, err := pgembed.Start(ctx, cfg)
	if err != nil {
		s.embedded = nil // stopped; keep its files for a look
		return fmt.Errorf("restart with %s preloaded: %w", statementsExtension, err)
	}
	s.embedded, s.connString = srv, srv.URL()
	return nil
}

// Extensions the cost figures use.
const (
	// statementsExtension counts statements; the server must load its
	// library at start (shared_preload_libraries).
	statementsExtension = "pg_stat_statements"
	// walinspectExtension reads WAL records (PostgreSQL 15 and newer).
	walinspectExtension = "pg_walinspect"
)

// checkExtensions sets s.statements and s.walinspect and says in
// s.statsNote what the cost figures use. On the embedded server it creates
// the extensions in the maintenance database; on DATABASE_URL's, a server
// the benchmark does not own, it uses them only where they exist already.
func (s *dbServer) checkExtensions(ctx context.Context) error {
	var libs string
	if err := s.admin.QueryRow(ctx, "SELECT current_setting('shared_preload_libraries')").Scan(&libs); err != nil {
		return fmt.Errorf("read shared_preload_libraries: %w", err)
	}
	var notes []string
	switch {
	case !slices.Contains(strings.Split(strings.ReplaceAll(libs, " ", ""), ","), statementsExtension):
		notes = append(notes, statementsExtension+" not loaded (shared_preload_libraries): statements not counted")
	default:
		s.statements, notes = s.createExtension(ctx, statementsExtension,
			"SELECT has_table_privilege('pg_stat_statements', 'SELECT')", notes)
	}
	s.walinspect, notes = s.createExtension(ctx, walinspectExtension,
		"SELECT has_function_privilege('pg_get_wal_records_info(pg_lsn, pg_lsn)', 'EXECUTE')", notes)
	s.statsNote = strings.Join(notes, "; ")
	return nil
}

// createExtension creates the extension in the embedded server unless it
// exists, or checks that it exists in DATABASE_URL's, and asks check (a
// query answering a boolean) whether this user may use it; it returns
// whether it can be used, and notes with what it is.
func (s *dbServer) createExtension(ctx context.Context, name, check string, notes []string) (bool, []string) {
	if s.embedded != nil {
		if _, err := s.admin.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+name); err != nil {
			return false, append(notes, fmt.Sprintf("%s not available (%v)", name, err))
		}
	} else {
		var exists bool
		err := s.admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = $1)", name).Scan(&exists)
		if err != nil || !exists {
			return false, append(notes, fmt.Sprintf("%s not created in the maintenance database (CREATE EXTENSION %s there to use it)", name, name))
		}
	}
	var ok bool
	if err := s.admin.QueryRow(ctx, check).Scan(&ok); err != nil || !ok {
		return false, append(notes, fmt.Sprintf("%s not usable by this user (%v)", name, err))
	}
	return true, append(notes, name)
}

// Source says which server this is, for the report.
func (s *dbServer) Source() string {
	if s.embedded != nil {
		return "embedded (pgembed, fsync off)"
	}
	return "DATABASE_URL " + pgurl.Redact(s.connString)
}

// Version is the server's SELECT version().
func (s *dbServer) Version(ctx context.Context) (string, error) {
	var v string
	err := s.admin.QueryRow(ctx, "SELECT version()").Scan(&v)
	return v, err
}

// Create creates a fresh, empty database and returns its name and URL.
func (s *dbServer) Create(ctx context.Context) (name, connString string, err error) {
	name = databasePrefix + strings.ToLower(rand.Text())
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	connString, err = pgurl.WithDatabase(s.connString, name)
	if err != nil {
		return "", "", errors.Join(err, s.Drop(ctx, name))
	}
	return name, connString, nil
}

// Drop drops a database Create made, disconnecting its sessions.
func (s *dbServer) Drop(ctx context.Context, name string) error {
	if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// close disconnects, and stops the embedded server and removes its
// directory. Safe on a partly opened server.
func (s *dbServer) close() error {
	ctx := context.Background()
	if s.admin != nil {
		s.admin.Close()
	}
	var err error
	if s.embedded != nil {
		if err = s.embedded.Stop(ctx); err != nil {
			// Keep the files of a server that may still run.
			return fmt.Errorf("stop the embedded PostgreSQL in %s: %w", s.dir, err)
		}
	}
	if s.dir != "" {
		err = os.RemoveAll(s.dir)
	}
	return err
}

// Settings returns the current value of each named server setting.
func (s *dbServer) Settings(ctx context.Context, names []string) (map[string]string, error) {
	rows, err := s.admin.Query(ctx, "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY($1)", names)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var name, value string
	_, err = pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		out[name] = value
		return nil
	})
	return out, err
}

// Connections counts the sessions connected to the database url names, and
// those of them not idle.
func (s *dbServer) Connections(ctx context.Context, url string) (all, notIdle int, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return 0, 0, err
	}
	err = s.admin.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state <> 'idle')
		FROM pg_stat_activity WHERE datname = $1`, cfg.Database).Scan(&all, &notIdle)
	if err != nil {
		return 0, 0, fmt.Errorf("count connections: %w", err)
	}
	return all, notIdle, nil
}
