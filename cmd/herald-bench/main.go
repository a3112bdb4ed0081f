// Command herald-bench measures herald against River itself, side by side in
// one run on one database server, and prints each figure with its ratio to
// the baseline and the target it must meet. See BENCHMARKS.md.
//
// Usage:
//
//	go run ./cmd/herald-bench [-size short|full] [-only name,...] [-json path] [-herald path]
//
// It runs the herald binary given by -herald (by default it builds
// ./cmd/herald into a temporary directory first) as a child process per
// scenario, each on a fresh database: one created on the server DATABASE_URL
// names, or on an embedded PostgreSQL it starts in a temporary directory and
// stops at the end. Everything listens on loopback; the run ends by itself,
// and SIGINT or SIGTERM stops it cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// A write to a stdout nobody reads any more (herald-bench | head) fails
	// with EPIPE instead of killing the process, which would leave the
	// embedded database server running: SIGPIPE is asked for, and dropped
	// (it does not stop the run; a socket's EPIPE raises it too).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "herald-bench:", err)
		os.Exit(1)
	}
}

// run is the whole program: it reads the command line and the environment,
// runs the selected scenarios and reports them.
func run(ctx context.Context) error {
	opts, err := parseOptions(os.Args[1:], os.Stderr, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return bench(ctx, opts, os.Stdout, os.Stderr)
}
