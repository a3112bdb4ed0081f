package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/herald-sched/herald/migrations"
)

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		db                  dbSettings
		logFormat, logLevel string
	)
	s := newSettings("migrate", stderr)
	db.register(s)
	s.String(&logFormat, "log-format", "HERALD_LOG_FORMAT", "text", "Log format: text or json.")
	s.String(&logLevel, "log-level", "HERALD_LOG_LEVEL", "info", "Log level: debug, info, warn or error.")
	if err := s.parse(args, nil); err != nil {
		return err
	}
	logger, err := newLogger(stderr, logFormat, logLevel)
	if err != nil {
		return err
	}
	return failed(logger, logFormat, "migrate", migrate(ctx, &db, logger, logFormat, stdout))
}

// migrate applies the migrations and says so on stdout.
func migrate(ctx context.Context, db *dbSettings, logger *slog.Logger, logFormat string, stdout io.Writer) error {
	pool, closeDB, err := db.open(ctx, logger, false)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := migrations.Migrate(ctx, pool, logger)
	if err != nil {
		return err
	}
	announce(stdout, logFormat, fmt.Sprintf("migrations applied: river %v, herald %v", res.River, res.Herald),
		slog.Any("river", res.River), slog.Any("herald", res.Herald))
	logger.Info("database is current", slog.Int("river_applied", len(res.River)), slog.Int("herald_applied", len(res.Herald)))
	return nil
}
