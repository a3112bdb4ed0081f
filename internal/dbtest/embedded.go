package dbtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/herald-sched/herald/internal/pgembed"
)

const (
	// embeddedDirPrefix starts the name of the temporary directory holding
	// a test process's embedded server.
	embeddedDirPrefix = "herald-dbtest-"
	// ownerFile, in that directory, is locked by the test process for its
	// whole life: an unlocked one was left by a process that died.
	ownerFile = "owner"
	// dataDirName is the server's data directory in that directory.
	dataDirName = "pg"
)

// startEmbedded starts a server with pgembed in a fresh temporary directory,
// and returns the URL of its maintenance database and the function that stops
// it and removes the directory. It first cleans up after test processes that
// died without doing so.
func startEmbedded(ctx context.Context, logger *slog.Logger) (string, func(context.Context) error, error) {
	reapOrphans(ctx, logger)
	dir, owner, err := makeOwnedDir()
	if err != nil {
		return "", nil, fmt.Errorf("embedded server: %w", err)
	}
	release := func() error { return errors.Join(os.RemoveAll(dir), owner.Close()) }
	begin := time.Now()
	pg, err := pgembed.Start(ctx, embeddedConfig(dir, logger))
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("embedded server: %w", err), release())
	}
	logger.Info("embedded server ready", slog.String("dir", dir), slog.Duration("took", time.Since(begin)))
	stop := func(ctx context.Context) error {
		if err := pg.Stop(ctx); err != nil {
			// Keep the files of a server that may still run.
			return fmt.Errorf("stop the embedded server in %s: %w", dir, err)
		}
		return release()
	}
	return pg.URL(), stop, nil
}

// embeddedConfig configures the embedded server in dir.
func embeddedConfig(dir string, logger *slog.Logger) pgembed.Config {
	return pgembed.Config{
		DataDir:  filepath.Join(dir, dataDirName),
		Logger:   logger,
		Database: "postgres",
		Fast:     true,
	}
}

// makeOwnedDir creates a temporary directory for an embedded server, and its
// owner file, locked.
func makeOwnedDir() (string, *os.File, error) {
	dir, err := os.MkdirTemp("", embeddedDirPrefix)
	if err != nil {
		return "", nil, err
	}
	// MkdirTemp makes the directory private, but the server may run as
	// another user (pgembed runs it as postgres when tests run as root).
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", nil, errors.Join(err, os.RemoveAll(dir))
	}
	// The owner file appears under its name only once locked, so that
	// reapOrphans never mistakes a directory being set up for an orphan.
	f, err := os.CreateTemp(dir, ownerFile+"-*")
	if err != nil {
		return "", nil, errors.Join(err, os.RemoveAll(dir))
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, ownerFile))
	}
	if err != nil {
		return "", nil, errors.Join(err, f.Close(), os.RemoveAll(dir))
	}
	return dir, f, nil
}

// reapOrphans stops the embedded servers, and removes the directories, of
// test processes that died without cleaning up after themselves (a test
// panicked, or -timeout fired). Failures are logged: they concern other
// processes' leftovers, not this one's tests.
func reapOrphans(ctx context.Context, logger *slog.Logger) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), embeddedDirPrefix+"*"))
	if err != nil {
		return // the pattern is well-formed
	}
	for _, dir := range dirs {
		if err := reapOrphan(ctx, dir, logger); err != nil {
			logger.Warn("clean up after a dead test process", slog.String("dir", dir), slog.Any("error", err))
		}
	}
}

// reapOrphan stops the embedded server in dir and removes dir if the process
// that created it is dead, which the kernel tells by releasing its lock on
// the owner file.
func reapOrphan(ctx context.Context, dir string, logger *slog.Logger) error {
	f, err := os.Open(filepath.Join(dir, ownerFile))
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return nil // not set up yet, or another user's
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil // its process lives
		}
		return err
	}
	dataDir := filepath.Join(dir, dataDirName)
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err == nil {
		// pgembed adopts a server whose starter died, so Stop stops it.
		pg, err := pgembed.Start(ctx, embeddedConfig(dir, logger))
		if err != nil {
			return err
		}
		if !pg.Owned() {
			return errors.New("its server belongs to a live process")
		}
		if err := pg.Stop(ctx); err != nil {
			return err
		}
	}
	logger.Info("removed the embedded server of a dead test process", slog.String("dir", dir))
	return os.RemoveAll(dir)
}
