package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/pgembed"
	"github.com/herald-sched/herald/internal/pgurl"
)

const (
	// databasePrefix starts the name of the database the suite creates on
	// DATABASE_URL's server.
	databasePrefix = "herald_chaos_"
	// auditConns bounds the suite's own connections (snapshots, the wait
	// for quiescence, the audit).
	auditConns = 4
	// dropTimeout bounds dropping the suite's database.
	dropTimeout = time.Minute
)

// database is herald's PostgreSQL for the run: a private embedded server in
// the work directory, which the suite can stop and start again (the outage),
// or a fresh database on the server DATABASE_URL names, dropped at the end
// (the outage is then skipped: the suite does not stop other people's
// servers).
type database struct {
	// url is herald's database.
	url string
	// pool is the suite's own connections to it.
	pool *pgxpool.Pool
	// embedded is the embedded server's configuration and, while it
	// runs, the server; srv is nil for DATABASE_URL's.
	embedded pgembed.Config
	srv      *pgembed.Server
	// external is DATABASE_URL's connection string, name the database
	// created on it; both empty for the embedded server.
	external, name string
	logger         *slog.Logger
}

// openDatabase starts the embedded server in dir, or creates a fresh
// database on the server databaseURL names when it is set.
func openDatabase(ctx context.Context, databaseURL, dir string, logger *slog.Logger) (*database, error) {
	d := &database{external: databaseURL, logger: logger}
	if databaseURL == "" {
		d.embedded = pgembed.Config{DataDir: filepath.Join(dir, "pg"), Fast: true, Logger: logger}
		if err := d.Start(ctx); err != nil {
			return nil, err
		}
		d.url = d.srv.URL()
	} else if err := d.create(ctx); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(d.url)
	if err != nil {
		return nil, errors.Join(err, d.Close(false))
	}
	cfg.MaxConns = auditConns
	if d.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to the database: %w", err), d.Close(false))
	}
	return d, nil
}

// create creates the run's database on DATABASE_URL's server.
func (d *database) create(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.external)
	if err != nil {
		return fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	name := databasePrefix + strings.ToLower(rand.Text())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	d.name = name
	if d.url, err = pgurl.WithDatabase(d.external, name); err != nil {
		return errors.Join(err, d.drop())
	}
	d.logger.InfoContext(ctx, "created the run's database", slog.String("name", name), slog.String("server", pgurl.Redact(d.external)))
	return nil
}

// CanStop reports whether the suite may stop the server (the embedded one).
func (d *database) CanStop() bool { return d.external == "" }

// Start starts the embedded server (again).
func (d *database) Start(ctx context.Context) error {
	srv, err := pgembed.Start(ctx, d.embedded)
	if err != nil {
		return fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	d.srv = srv
	return nil
}

// Stop stops the embedded server with a fast shutdown: sessions are
// disconnected, their transactions rolled back.
func (d *database) Stop(ctx context.Context) error {
	if d.srv == nil {
		return errors.New("no embedded server to stop")
	}
	err := d.srv.Stop(ctx)
	d.srv = nil
	return err
}

// Describe says which server this is and its version, for the report.
func (d *database) Describe(ctx context.Context) string {
	var version string
	if err := d.pool.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		version = "version unknown: " + err.Error()
	}
	if d.external != "" {
		return fmt.Sprintf("PostgreSQL %s, database %s on DATABASE_URL %s", version, d.name, pgurl.Redact(d.external))
	}
	return fmt.Sprintf("PostgreSQL %s, embedded (pgembed, fsync off; stopped with pg_ctl -m fast)", version)
}

// Close disconnects and stops the embedded server, or drops the run's
// database unless keep.
func (d *database) Close(keep bool) error {
	if d.pool != nil {
		d.pool.Close()
	}
	if d.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		return d.Stop(ctx)
	}
	switch {
	case d.name == "":
	case keep:
		d.logger.Info("kept the run's database", slog.String("name", d.name), slog.String("server", pgurl.Redact(d.external)))
	default:
		return d.drop()
	}
	return nil
}

// drop drops the run's database on DATABASE_URL's server.
func (d *database) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.external)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	return nil
}
