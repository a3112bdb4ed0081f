package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// bench runs the scenarios opts selects and reports them: the table on
// stdout, the JSON file at opts.jsonPath, the progress log on stderr. The
// table and the file are written even when a scenario failed or the run was
// interrupted, with what was measured.
func bench(ctx context.Context, opts options, stdout, stderr io.Writer) (err error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: opts.logLevel}))
	libLogger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: max(opts.logLevel, slog.LevelWarn)}))
	selected := selectScenarios(opts.only)

	bin, removeBin, err := heraldBinary(ctx, opts.heraldBin, logger)
	if err != nil {
		return err
	}
	defer removeBin()
	db, err := openDBServer(ctx, opts.databaseURL, logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	mach, err := describeMachine(ctx, db, bin)
	if err != nil {
		return fmt.Errorf("describe the machine: %w", err)
	}

	e := &env{size: opts.size, db: db, heraldBin: bin, logger: logger, libLogger: libLogger, heraldLog: stderr}
	results, runErr := runScenarios(ctx, e, selected)
	rep := &report{Machine: mach, Size: opts.size, Results: results}
	if err := rep.save(opts.jsonPath, stdout); err != nil {
		return errors.Join(runErr, err)
	}
	logger.InfoContext(ctx, "results written", slog.String("json", opts.jsonPath))
	return runErr
}

// save writes the report to jsonPath, then prints its table to stdout: the
// results are kept when stdout is gone (a reader that stopped reading,
// such as head; main makes that write fail rather than kill the process).
func (r *report) save(jsonPath string, stdout io.Writer) error {
	if err := r.writeJSON(jsonPath); err != nil {
		return fmt.Errorf("write %s: %w", jsonPath, err)
	}
	if err := r.printTable(stdout); err != nil {
		return fmt.Errorf("print the table: %w", err)
	}
	return nil
}
