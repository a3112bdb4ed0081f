// Command herald-chaos is herald's chaos suite (`make chaos`): three
// `herald serve` replicas behind nginx, a private PostgreSQL and a webhook
// receiver, all on loopback; load through nginx while a replica is killed,
// the database stopped and every replica restarted; then an audit of what
// herald acknowledged, ran and delivered. See `herald-chaos --help` and
// deploy/README.md.
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "herald-chaos:", err)
		os.Exit(1)
	}
}

// run reads the command line and the environment and runs the suite.
func run(ctx context.Context) error {
	opts, err := parseOptions(os.Args[1:], os.Stderr, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return chaos(ctx, opts, os.Stdout, os.Stderr)
}
