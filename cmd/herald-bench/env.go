package main

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// cleanupTimeout bounds dropping a scenario's database.
const cleanupTimeout = time.Minute

// env is what the scenarios run in.
type env struct {
	size size
	db   *dbServer
	// heraldBin is the herald binary under test.
	heraldBin string
	// logger receives the benchmark's progress.
	logger *slog.Logger
	// libLogger is for libraries (River, migrations), which log routine
	// events at info: it passes warnings and errors only.
	libLogger *slog.Logger
	// heraldLog receives the herald processes' logs (level warn).
	heraldLog io.Writer
	// baselineRate is River's no-op jobs/s, set by the baseline scenario;
	// zero when it did not run (ratios are then left out).
	baselineRate float64
	// baselineCost is what PostgreSQL did per River job in the baseline;
	// nil when it did not run.
	baselineCost *cost
	// deliveryRate is the delivery scenario's DB-fed deliveries/s of
	// single-task runs; zero when it did not run.
	deliveryRate float64
}

// freshDatabase creates an empty database for one scenario and returns its
// URL and the function that drops it.
func (e *env) freshDatabase(ctx context.Context) (string, func() error, error) {
	name, url, err := e.db.Create(ctx)
	if err != nil {
		return "", nil, err
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		return e.db.Drop(ctx, name)
	}
	return url, drop, nil
}
