package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/herald-sched/herald/client"
)

// Exit codes of the client commands (jobs, runs, devices, keys, graph),
// documented in usageText and the README.
const (
	exitOK         = 0
	exitFailed     = 1 // the operation failed (a run failed, the server refused or could not be reached)
	exitUsage      = 2 // the command line is wrong
	exitNotFound   = 3 // what was named does not exist
	exitValidation = 4 // the definition is invalid: refused by the server, or by the same checks run locally first
)

// exitError is an error that ends herald with a given exit code. An empty
// message prints nothing (what went wrong was printed already).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode is the exit code for err, an error run returned.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailed
}

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// cliCommand is a client command: a group (jobs, runs, ...) of subcommands,
// or one of them.
type cliCommand struct {
	name    string
	args    string // the arguments after the command's name, for its synopsis
	summary string // one line, in its group's list
	about   string // more, in its --help
	sub     []*cliCommand
	// setup registers the command's own flags on s and returns what runs
	// it with its arguments.
	setup func(cl *cli, s *settings) func(ctx context.Context, args []string) error
}

// cliCommands are the client commands, in help order.
func cliCommands() []*cliCommand {
	return []*cliCommand{jobsCommand(), runsCommand(), devicesCommand(), keysCommand(), graphCommand(), completionCommand()}
}

// isCLICommand reports whether name is a client command (run dispatches it
// to cliMain).
func isCLICommand(name string) bool {
	return findCommand(cliCommands(), name) != nil
}

// lookupCommand follows words down the command tree: it returns the
// deepest command they name (nil for none), its path and the words left.
func lookupCommand(words []string) (cmd *cliCommand, path, rest []string) {
	cmds := cliCommands()
	for len(words) > 0 {
		next := findCommand(cmds, words[0])
		if next == nil {
			break
		}
		cmd, path, words = next, append(path, next.name), words[1:]
		if next.sub == nil {
			break
		}
		cmds = next.sub
	}
	return cmd, path, words
}

func findCommand(cmds []*cliCommand, name string) *cliCommand {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// cli is what every client command shares: its output, and the server and
// key it talks to (set by the common flags).
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	server string
	apiKey string
	output string
	// keySource names where apiKey came from (--api-key, HERALD_API_KEY), for
	// the message of a 401.
	keySource string
}

// cliMain runs a client command: args starts with its group's name.
func cliMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cl := &cli{stdin: os.Stdin, stdout: stdout, stderr: stderr}
	cmd, path, args := lookupCommand(args)
	if cmd.sub != nil {
		// A group without a subcommand (or with an unknown one).
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			cl.groupUsage(stdout, path, cmd)
			return nil
		}
		cl.groupUsage(stderr, path, cmd)
		if len(args) == 0 {
			return usageError("%s: give a command", strings.Join(path, " "))
		}
		return usageError("%s: unknown command %q", strings.Join(path, " "), args[0])
	}
	s := cl.flags(path, cmd)
	runCmd := cmd.setup(cl, s)
	rest, err := s.parseArgs(args, cl.getenv)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if cl.output != "table" && cl.output != "json" {
		return usageError("--output %q: want table or json", cl.output)
	}
	switch {
	case cl.apiKey == "":
	case s.given("api-key"):
		cl.keySource = "--api-key"
	default:
		cl.keySource = "HERALD_API_KEY"
	}
	return runCmd(ctx, rest)
}

// flags returns the settings of a command with the flags every client
// command has: the server, the key and the output format.
func (cl *cli) flags(path []string, cmd *cliCommand) *settings {
	s := newSettings(strings.Join(path, " "), cl.stderr)
	s.synopsis = strings.Join(append(path, strings.Fields(cmd.args+" [flags]")...), " ")
	s.about = cmd.summary
	if cmd.about != "" {
		s.about += "\n\n" + cmd.about
	}
	s.footer = exitCodesText
	s.String(&cl.server, "server", "HERALD_URL", "http://localhost:8080", "The herald server's URL.")
	s.String(&cl.apiKey, "api-key", "HERALD_API_KEY", "", "The API key (Authorization: Bearer).")
	s.String(&cl.output, "output", "", "table", "table (for people) or json (for scripts); -o for short.")
	s.fs.Func("o", "", func(v string) error { cl.output = v; return nil })
	return s
}

// client is the API client of the server and key the flags named.
func (cl *cli) client() (*client.Client, error) {
	c, err := client.New(cl.server, cl.apiKey, client.WithUserAgent("herald-cli"))
	if err != nil {
		return nil, usageError("--server: %v", err)
	}
	return c, nil
}

func (cl *cli) groupUsage(w io.Writer, path []string, group *cliCommand) {
	name := strings.Join(path, " ")
	fmt.Fprintf(w, "Usage: herald %s <command> [flags]\n\n%s\n\nCommands:\n", name, group.summary)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range group.sub {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun \"herald %s <command> --help\" for a command's flags.\n", name)
}

// exitCodesText ends every client command's help (and herald help).
const exitCodesText = `Exit codes: 0 done; 1 the operation failed (the server refused it or could
not be reached, or the run watched failed); 2 the command line is wrong;
3 not found; 4 the definition is invalid (the server's validation refused it,
or the same checks run before sending anything did).`

// fail turns an error of the client into the exit code and the message
// people need: one line, no stack trace.
func (cl *cli) fail(err error) error {
	var p *client.Problem
	switch {
	case err == nil:
		return nil
	case errors.As(err, &p):
		switch {
		case p.Status == 401:
			return &exitError{code: exitFailed, err: fmt.Errorf("%s refused the API key %s (401): %s", cl.server, cl.describeKey(), p.Detail)}
		case p.Status == 404:
			return &exitError{code: exitNotFound, err: err}
		case client.IsValidation(err):
			return &exitError{code: exitValidation, err: err}
		}
		return &exitError{code: exitFailed, err: err}
	case errors.Is(err, context.Canceled):
		return &exitError{code: exitFailed, err: errors.New("interrupted")}
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &exitError{code: exitFailed, err: fmt.Errorf("cannot reach herald at %s: %v", cl.server, rootCause(err))}
	}
	return &exitError{code: exitFailed, err: err}
}

// rootCause is the innermost error of a transport failure ("connection
// refused" rather than the whole chain).
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func (cl *cli) describeKey() string {
	if cl.keySource == "" {
		return "(none was given: set HERALD_API_KEY or pass --api-key)"
	}
	return "from " + cl.keySource
}
