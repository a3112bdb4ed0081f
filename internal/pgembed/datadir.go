package pgembed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// port only names the socket file (.s.PGSQL.<port>): the server listens
	// on no TCP port.
	port = 5432
	// maxSocketPath is the longest unix socket path the kernel accepts:
	// sizeof(sockaddr_un.sun_path) minus the terminating NUL, 107 on Linux.
	maxSocketPath = len(syscall.RawSockaddrUnix{}.Path) - 1
	// settingsFile holds herald's settings, rewritten at every start.
	settingsFile = "herald.conf"
	// includeLine makes postgresql.conf read settingsFile last.
	includeLine = "include_if_exists = '" + settingsFile + "'"
	// lockPollInterval is how often lockDir retries a held lock.
	lockPollInterval = 50 * time.Millisecond
)

// prepareDataDir creates dir (and its parents) when missing and makes sure
// the server's account owns and can reach it.
func prepareDataDir(dir string, acct account) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("pgembed: create parent of data directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("pgembed: create data directory: %w", err)
	}
	if !acct.switchTo {
		return nil
	}
	if err := acct.checkTraversable(dir); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("pgembed: data directory: %w", err)
	}
	if acct.owns(fi) {
		return nil
	}
	exists, err := hasCluster(dir)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("pgembed: data directory %s holds a cluster that user %q, which the server runs as, "+
			"does not own: chown -R %s %s, or choose another data directory", dir, acct.name, acct.name, dir)
	}
	return acct.own(dir)
}

// lockDir takes an exclusive flock on dir, waiting for other processes that
// hold it, and returns the function that releases it.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: lock data directory: %w", err)
	}
	tick := time.NewTicker(lockPollInterval)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("pgembed: lock data directory %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("pgembed: wait for another process using data directory %s: %w", dir, ctx.Err())
		case <-tick.C:
		}
	}
}

// socketDir returns the directory for the server's unix socket: dataDir
// itself when the socket path fits in maxSocketPath and dataDir can be
// written in unix_socket_directories, else a directory under os.TempDir()
// named after a hash of dataDir, so that every Start on dataDir agrees on it.
func socketDir(dataDir string) (string, error) {
	if socketDirOK(dataDir) {
		return dataDir, nil
	}
	sum := sha256.Sum256([]byte(dataDir))
	dir := filepath.Join(os.TempDir(), "herald-pg-"+hex.EncodeToString(sum[:8]))
	if !socketDirOK(dir) {
		return "", fmt.Errorf("pgembed: the socket path for data directory %s would exceed %d bytes, "+
			"and so would its fallback in the temporary directory %s: choose a shorter data directory path",
			dataDir, maxSocketPath, dir)
	}
	return dir, nil
}

// socketDirOK reports whether the server's socket can live in dir.
func socketDirOK(dir string) bool {
	socket := filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(port))
	// unix_socket_directories is a comma-separated list, and URLs and
	// settings quote poorly: keep such paths out of it.
	return len(socket) <= maxSocketPath && !strings.ContainsAny(dir, `,"'\`)
}

// ensurePrivateDir creates dir, a socket directory outside the data
// directory, for the account alone, and refuses one another user owns.
func ensurePrivateDir(dir string, acct account) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("pgembed: create socket directory: %w", err)
	} else if err == nil {
		if err := acct.own(dir); err != nil {
			return err
		}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("pgembed: socket directory: %w", err)
	}
	if !fi.IsDir() || !acct.owns(fi) || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("pgembed: socket directory %s must be a directory owned by user %q and writable by it alone: "+
			"remove it, or choose a shorter data directory path", dir, acct.name)
	}
	return nil
}

// settings returns the content of settingsFile.
func settings(sockDir string, fast bool) string {
	durable := "on"
	if fast {
		durable = "off"
	}
	var b strings.Builder
	b.WriteString("# Written by herald at every start of its embedded server: edits here are lost.\n")
	fmt.Fprintf(&b, "listen_addresses = ''\n")
	fmt.Fprintf(&b, "port = %d\n", port)
	fmt.Fprintf(&b, "unix_socket_directories = '%s'\n", sockDir)
	fmt.Fprintf(&b, "max_connections = 200\n")
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		fmt.Fprintf(&b, "%s = %s\n", name, durable)
	}
	return b.String()
}

// writeSettings writes content to the data directory's settingsFile and makes
// postgresql.conf include it.
func writeSettings(dataDir, content string, acct account) error {
	path := filepath.Join(dataDir, settingsFile)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("pgembed: write settings: %w", err)
	}
	if err := acct.own(path); err != nil {
		return err
	}
	return ensureInclude(filepath.Join(dataDir, "postgresql.conf"))
}

// ensureInclude appends includeLine to the configuration file at path unless
// it already holds it.
func ensureInclude(path string) error {
	conf, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("pgembed: read server configuration: %w", err)
	}
	for line := range bytes.Lines(conf) {
		if string(bytes.TrimSpace(line)) == includeLine {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pgembed: update server configuration: %w", err)
	}
	if _, err := fmt.Fprintf(f, "\n# Added by herald: its settings override the ones above.\n%s\n", includeLine); err != nil {
		_ = f.Close()
		return fmt.Errorf("pgembed: update server configuration: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pgembed: update server configuration: %w", err)
	}
	return nil
}

// prepareLogFile creates the data directory's log directory and returns the
// path of the file the server's output is appended to.
func prepareLogFile(dataDir string, acct account) (string, error) {
	dir := filepath.Join(dataDir, "log")
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("pgembed: create log directory: %w", err)
	}
	if err := acct.own(dir); err != nil {
		return "", err
	}
	return filepath.Join(dir, "postgresql.log"), nil
}

// postmasterPID is what a running server's postmaster.pid says about how to
// reach it.
type postmasterPID struct {
	port      int
	socketDir string
}

// readPostmasterPID reads the postmaster.pid a running server keeps in its
// data directory: line 4 holds the port, line 5 the first socket directory.
func readPostmasterPID(dataDir string) (postmasterPID, error) {
	path := filepath.Join(dataDir, "postmaster.pid")
	f, err := os.Open(path)
	if err != nil {
		return postmasterPID{}, fmt.Errorf("pgembed: read server state: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for len(lines) < 5 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return postmasterPID{}, fmt.Errorf("pgembed: read server state: %w", err)
	}
	if len(lines) < 5 {
		return postmasterPID{}, fmt.Errorf("pgembed: %s is incomplete: is the server still starting?", path)
	}
	p, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return postmasterPID{}, fmt.Errorf("pgembed: %s: port: %w", path, err)
	}
	sockDir := strings.TrimSpace(lines[4])
	if sockDir == "" {
		return postmasterPID{}, fmt.Errorf("pgembed: the server running in %s listens on no unix socket", dataDir)
	}
	return postmasterPID{port: p, socketDir: sockDir}, nil
}
