package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

const (
	// logTailLines is how many of the server log's last lines a start error
	// quotes, from at most logTailBytes.
	logTailLines = 10
	logTailBytes = 4 << 10
	// waitDelay bounds how long a command's output is awaited after it
	// exits, should a process it started keep the output open.
	waitDelay = 5 * time.Second
)

// pgctl runs initdb and pg_ctl on one data directory as the server's account.
type pgctl struct {
	binDir  string
	dataDir string
	acct    account
	// timeout is what pg_ctl waits for the server to start or stop.
	timeout time.Duration
}

// initdb creates a cluster in the data directory, owned by superuser herald.
// It trusts every connection: the server only listens on a socket in a
// directory only its account (and root) can enter. The C locale makes text
// sort by code point, the same on every machine.
func (c pgctl) initdb(ctx context.Context) error {
	out, err := c.run(ctx, "initdb",
		"--pgdata", c.dataDir,
		"--username", Superuser,
		"--auth=trust",
		"--encoding=UTF8",
		"--no-locale",
		"--no-sync")
	if err != nil {
		return fmt.Errorf("pgembed: initdb %s: %w\n%s", c.dataDir, err, bytes.TrimSpace(out))
	}
	return nil
}

// status reports whether a server runs in the data directory.
func (c pgctl) status(ctx context.Context) (bool, error) {
	out, err := c.run(ctx, "pg_ctl", "status", "--pgdata", c.dataDir)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 3: // pg_ctl's "no server running"
		return false, nil
	default:
		return false, fmt.Errorf("pgembed: pg_ctl status %s: %w\n%s", c.dataDir, err, bytes.TrimSpace(out))
	}
}

// start starts the server, appending its output to logFile, and waits until
// it accepts connections.
func (c pgctl) start(ctx context.Context, logFile string) error {
	out, err := c.run(ctx, "pg_ctl", "start", "--pgdata", c.dataDir, "--log", logFile,
		"--wait", "--timeout", c.timeoutSeconds(), "--silent")
	if err != nil {
		return fmt.Errorf("pgembed: start PostgreSQL in %s: %w\n%s\nend of the server log %s:\n%s",
			c.dataDir, err, bytes.TrimSpace(out), logFile, logTail(logFile))
	}
	return nil
}

// stop stops the server with a fast shutdown (sessions are disconnected,
// transactions rolled back) and waits until it exits. A server that is no
// longer running is no error.
func (c pgctl) stop(ctx context.Context) error {
	out, err := c.run(ctx, "pg_ctl", "stop", "--pgdata", c.dataDir, "--mode=fast",
		"--wait", "--timeout", c.timeoutSeconds(), "--silent")
	if err == nil {
		return nil
	}
	if running, statusErr := c.status(ctx); statusErr == nil && !running {
		return nil
	}
	return fmt.Errorf("pgembed: stop PostgreSQL in %s: %w\n%s", c.dataDir, err, bytes.TrimSpace(out))
}

// run runs one of the binaries, in the data directory, and returns its
// combined output.
func (c pgctl) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := c.acct.command(ctx, c.dataDir, filepath.Join(c.binDir, name), args...)
	cmd.WaitDelay = waitDelay
	return cmd.CombinedOutput()
}

func (c pgctl) timeoutSeconds() string {
	return strconv.Itoa(max(1, int(math.Ceil(c.timeout.Seconds()))))
}

// logTail returns the end of the log file at path, or why it cannot.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	offset := max(0, fi.Size()-logTailBytes)
	tail, err := io.ReadAll(io.NewSectionReader(f, offset, fi.Size()-offset))
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	lines := bytes.Split(bytes.TrimSpace(tail), []byte("\n"))
	if offset > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line is likely partial
	}
	lines = lines[max(0, len(lines)-logTailLines):]
	return string(bytes.Join(lines, []byte("\n")))
}
