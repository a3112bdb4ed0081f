package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	srv, err := pgembed.Start(ctx, pgembed.Config{
		DataDir:  filepath.Join(dir, "pg"),
		Database: "postgres",
		Fast:     true,
		Logger:   s.logger,
	})
	if err != nil {
		return errors.Join(fmt.Errorf("embedded PostgreSQL: %w", err), os.RemoveAll(dir))
	}
	s.embedded, s.connString = srv, srv.URL()
	return nil
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
