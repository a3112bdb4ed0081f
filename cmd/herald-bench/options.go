package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
)

// defaultJSONPath is where the results are written unless -json says otherwise.
const defaultJSONPath = "bench-results.json"

// options are the command line and environment of one benchmark run.
type options struct {
	// heraldBin is the herald binary to run; empty builds ./cmd/herald.
	heraldBin string
	// size is the preset every scenario runs at.
	size size
	// only lists the scenarios to run, in the order they always run in;
	// empty runs them all.
	only []string
	// jsonPath is where the results are written.
	jsonPath string
	// databaseURL names the server to create fresh databases on; empty
	// starts an embedded PostgreSQL.
	databaseURL string
	// logLevel filters the progress log written to stderr.
	logLevel slog.Level
}

// parseOptions reads the command line, and DATABASE_URL through getenv.
// Usage and flag errors go to errOut.
func parseOptions(args []string, errOut io.Writer, getenv func(string) string) (options, error) {
	fs := flag.NewFlagSet("herald-bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	var opts options
	var sizeName, only, level string
	fs.StringVar(&opts.heraldBin, "herald", "", "herald binary to benchmark (default: go build ./cmd/herald into a temporary directory)")
	fs.StringVar(&sizeName, "size", "short", "scenario sizes: short or full")
	fs.StringVar(&only, "only", "", "comma-separated scenarios to run (default all): "+strings.Join(scenarioNames(), ","))
	fs.StringVar(&opts.jsonPath, "json", defaultJSONPath, "where to write the results as JSON")
	fs.StringVar(&level, "log-level", "info", "progress log level on stderr: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(errOut, "Usage: herald-bench [flags]\n\nRuns herald's benchmark scenarios against River's own baseline.\n"+
			"DATABASE_URL, if set, names the server to create fresh databases on;\n"+
			"otherwise an embedded PostgreSQL is started in a temporary directory.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if opts.size, err = sizeByName(sizeName); err != nil {
		return options{}, err
	}
	if opts.only, err = parseOnly(only); err != nil {
		return options{}, err
	}
	if err := opts.logLevel.UnmarshalText([]byte(level)); err != nil {
		return options{}, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts.databaseURL = getenv("DATABASE_URL")
	return opts, nil
}

// parseOnly splits the -only list and checks every name.
func parseOnly(list string) ([]string, error) {
	var out []string
	known := scenarioNames()
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("-only: unknown scenario %q (want some of %s)", name, strings.Join(known, ","))
		}
		out = append(out, name)
	}
	return out, nil
}
