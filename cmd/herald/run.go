package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const usageText = `herald: a durable HTTP webhook scheduler.

Usage:
  herald serve [flags]     run the REST API, schedulers and delivery workers
  herald migrate [flags]   apply database migrations (herald's and River's) and exit
  herald receive [flags]   print the webhooks sent to it, checking their signatures
                           with --verify-secret (a receiver for trying herald out)
  herald version           print the version (also herald --version)
  herald help              show this text

Client commands, for a herald server at --server (HERALD_URL, default
http://localhost:8080) with --api-key (HERALD_API_KEY):
  herald jobs apply -f FILE|-   create or replace jobs by name from a YAML or JSON file
  herald jobs list|get|delete|pause|resume|trigger
  herald runs list|get|watch|cancel|retry
  herald devices list|get
  herald keys create|list|revoke
  herald graph JOB --format dot|svg|json
  herald completion bash|zsh|fish
They print tables for people, or JSON with -o json.

Run "herald <command> --help" for a command's flags. Every flag with a
variable beside it can also be set through that environment variable.

` + exitCodesText + `
`

// run is the whole program: it returns when the command is done or ctx is
// cancelled (SIGINT, SIGTERM).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return errors.New("no command given")
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, args[1:], stdout, stderr)
	case "receive":
		err = receiveCmd(ctx, args[1:], stdout, stderr)
	case "__complete": // for the shell completion scripts (herald completion)
		complete(ctx, args[1:], stdout)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText)
		return nil
	case "version", "--version", "-version":
		printVersion(stdout)
		return nil
	default:
		if isCLICommand(args[0]) {
			err = cliMain(ctx, args, stdout, stderr)
			break
		}
		fmt.Fprint(stderr, usageText)
		return &exitError{code: exitUsage, err: fmt.Errorf("unknown command %q", args[0])}
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
