package pgembed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// readyPollInterval is how often waitReady retries connecting.
	readyPollInterval = 50 * time.Millisecond
	// SQLSTATEs CREATE DATABASE fails with when a concurrent session
	// created the same database.
	codeDuplicateDatabase = "42P04"
	codeUniqueViolation   = "23505"
)

// waitReady waits until the server at url accepts a connection, for a server
// another process started that may still be starting up.
func waitReady(ctx context.Context, url string) error {
	tick := time.NewTicker(readyPollInterval)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgembed: wait for the server to accept connections: %w", err)
		case <-tick.C:
		}
	}
}

// ensureDatabase creates database unless it exists, connecting through
// maintenanceURL.
func ensureDatabase(ctx context.Context, maintenanceURL, database string) error {
	conn, err := pgx.Connect(ctx, maintenanceURL)
	if err != nil {
		return fmt.Errorf("pgembed: connect to the server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return fmt.Errorf("pgembed: look up database %q: %w", database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == codeDuplicateDatabase || pgErr.Code == codeUniqueViolation) {
		// Another process created it meanwhile.
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgembed: create database %q: %w", database, err)
	}
	return nil
}
