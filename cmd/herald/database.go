package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/pgembed"
	"github.com/herald-sched/herald/internal/store"
)

// connectTimeout bounds a connection attempt unless the URL sets
// connect_timeout.
const connectTimeout = 3 * time.Second

// dbSettings selects the database: DATABASE_URL, or the embedded default.
type dbSettings struct {
	url      string
	dataDir  string
	maxConns int
}

func (d *dbSettings) register(s *settings) {
	s.String(&d.url, "database-url", "DATABASE_URL", "", "PostgreSQL URL (libpq form). Empty: run a private PostgreSQL from the machine's server\nbinaries in <data-dir>/pg (the embedded default), stopped on exit.")
	s.String(&d.dataDir, "data-dir", "HERALD_DATA_DIR", ".herald", "Directory for the embedded PostgreSQL (used only without DATABASE_URL).")
	s.Int(&d.maxConns, "db-max-conns", "HERALD_DB_MAX_CONNS", 40, "Most database connections this process opens.")
}

// open connects to the database, starting the embedded server first when no
// URL is set. The returned func closes the pool and stops that server.
// exclusive refuses an embedded server that another live process runs (a
// second herald serve in the same data directory), saying what to do.
func (d *dbSettings) open(ctx context.Context, logger *slog.Logger, exclusive bool) (*pgxpool.Pool, func(), error) {
	url := d.url
	stop := func() {}
	if url == "" {
		dir, err := filepath.Abs(filepath.Join(d.dataDir, "pg"))
		if err != nil {
			return nil, nil, err
		}
		logger.InfoContext(ctx, "no DATABASE_URL: starting the embedded PostgreSQL", slog.String("data_dir", dir))
		srv, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Logger: logger, Exclusive: exclusive})
		var inUse *pgembed.InUseError
		if errors.As(err, &inUse) {
			who := "another herald"
			if inUse.PID != 0 {
				who += fmt.Sprintf(" (pid %d)", inUse.PID)
			}
			return nil, nil, fmt.Errorf("%s runs the embedded PostgreSQL of --data-dir %s (HERALD_DATA_DIR): stop it, "+
				"give this one a data directory of its own, or run replicas against one database with DATABASE_URL", who, d.dataDir)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		url = srv.URL()
		stop = func() {
			if err := srv.Stop(context.Background()); err != nil {
				logger.Error("stop embedded PostgreSQL", slog.Any("error", err))
			}
		}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.MaxConns = int32(d.maxConns)
	store.ConfigureSession(cfg)
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// An unreachable database fails a request within seconds (503)
		// instead of holding it; connect_timeout in the URL overrides.
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		stop()
		return nil, nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, func() { pool.Close(); stop() }, nil
}
