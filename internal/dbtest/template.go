package dbtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/herald-sched/herald/migrations"
)

const (
	// templatePrefix starts the template's name; a hash of the migrations
	// ends it.
	templatePrefix = "herald_tmpl_"
	// buildSuffix ends the name the template is built under, so that a build
	// cut short is never mistaken for a template.
	buildSuffix = "_build"
	// templateLockKey is the advisory lock taken while building the template,
	// so that test processes sharing a server build it once. It is the first
	// 8 bytes of sha256("herald.dbtest.template") read as an int64.
	templateLockKey int64 = -0x5102f9894cdf3e2f
)

// templateName returns the template's name, which changes whenever a
// migration, herald's or River's, does.
func templateName() (string, error) {
	all, err := migrations.All()
	if err != nil {
		return "", fmt.Errorf("read migrations: %w", err)
	}
	// The driver is only asked for River's migrations: it needs no pool.
	river, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", fmt.Errorf("read River migrations: %w", err)
	}
	h := sha256.New()
	for _, m := range all {
		fmt.Fprintf(h, "herald %s\x00%s\x00", m.Name, m.SQL)
	}
	for _, m := range river.AllVersions() {
		fmt.Fprintf(h, "river %d\x00%s\x00", m.Version, m.SQLUp)
	}
	return templatePrefix + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ensureTemplate builds the server's template unless it exists. It holds an
// advisory lock meanwhile, on a connection of its own to the maintenance
// database: other test processes sharing the server wait, then find it.
func (s *server) ensureTemplate(ctx context.Context, logger *slog.Logger) error {
	conn, err := pgx.Connect(ctx, s.connString)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// Ending the session releases the lock.
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return fmt.Errorf("take the template lock: %w", err)
	}
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.template).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up template %s: %w", s.template, err)
	}
	if exists {
		logger.Info("reusing template", slog.String("template", s.template))
		return nil
	}
	begin := time.Now()
	if err := s.buildTemplate(ctx); err != nil {
		return err
	}
	logger.Info("built template", slog.String("template", s.template), slog.Duration("took", time.Since(begin)))
	return nil
}

// buildTemplate migrates a new database under a temporary name, then gives
// it the template's name, so that the template only ever exists complete.
// The template accepts no connections, which would block cloning it.
func (s *server) buildTemplate(ctx context.Context) error {
	build := s.template + buildSuffix
	// A previous build, cut short, may have left its database behind.
	if err := s.dropDatabase(ctx, build); err != nil {
		return err
	}
	if err := s.createDatabase(ctx, build, ""); err != nil {
		return err
	}
	if err := migrate(ctx, s.databaseURL(build)); err != nil {
		return errors.Join(err, s.dropDatabase(context.WithoutCancel(ctx), build))
	}
	name := pgx.Identifier{s.template}.Sanitize()
	for _, sql := range []string{
		"ALTER DATABASE " + pgx.Identifier{build}.Sanitize() + " RENAME TO " + name,
		"ALTER DATABASE " + name + " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
	} {
		if _, err := s.admin.Exec(ctx, sql); err != nil {
			return fmt.Errorf("finish template %s: %w", s.template, err)
		}
	}
	return nil
}

// migrate applies herald's migrations to the database at url.
func migrate(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to the template: %w", err)
	}
	defer pool.Close()
	if _, err := migrations.Migrate(ctx, pool, nil); err != nil {
		return fmt.Errorf("migrate the template: %w", err)
	}
	return nil
}
