package pgembed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

const (
	// DefaultFallbackDir is Config.FallbackDir's default: under /var/lib,
	// which every account can enter, and kept across reboots.
	DefaultFallbackDir = "/var/lib/herald/embedded"
	// originFile, next to a relocated data directory, names the data
	// directory it stands in for, so that a person listing FallbackDir can
	// tell which checkout each cluster belongs to.
	originFile = "origin"
	// relocatedName is the data directory's name in its hash directory.
	relocatedName = "pg"
)

// reachableDataDir returns the data directory to use for cfg.DataDir: that
// directory itself, unless the process runs as root and the server's account
// cannot enter one of its parents (a checkout under /root, mode 700); then a
// directory under cfg.FallbackDir named after a hash of cfg.DataDir, the same
// at every start, so that the cluster is found again. Nothing is made
// readable that was not: /root keeps its mode.
func reachableDataDir(ctx context.Context, cfg Config, acct account) (string, error) {
	if !acct.switchTo {
		return cfg.DataDir, nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DataDir), 0o755); err != nil {
		return "", fmt.Errorf("pgembed: create parent of data directory: %w", err)
	}
	unreachable := acct.checkTraversable(cfg.DataDir)
	if unreachable == nil {
		return cfg.DataDir, nil
	}
	sum := sha256.Sum256([]byte(cfg.DataDir))
	home := filepath.Join(cfg.FallbackDir, hex.EncodeToString(sum[:8]))
	if err := mkdirReachable(home); err != nil {
		return "", errors.Join(unreachable, err)
	}
	if err := acct.checkTraversable(filepath.Join(home, relocatedName)); err != nil {
		return "", fmt.Errorf("pgembed: user %q cannot enter the data directory %s, nor its fallback under %s: %w",
			acct.name, cfg.DataDir, cfg.FallbackDir, err)
	}
	if err := os.WriteFile(filepath.Join(home, originFile), []byte(cfg.DataDir+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("pgembed: record the data directory's origin: %w", err)
	}
	dir := filepath.Join(home, relocatedName)
	cfg.Logger.InfoContext(ctx, "the embedded PostgreSQL keeps its data under "+cfg.FallbackDir+
		": the server runs as user "+acct.name+", which cannot enter a parent of the data directory",
		slog.String("data_dir", dir), slog.String("instead_of", cfg.DataDir))
	return dir, nil
}

// mkdirReachable creates dir and its missing parents with mode 0755 whatever
// the umask, so that the server's account can enter them; existing
// directories keep their mode.
func mkdirReachable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pgembed: %w", err)
	}
	if err := mkdirReachable(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("pgembed: create %s: %w", dir, err)
	} else if err == nil {
		if err := os.Chmod(dir, 0o755); err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
	}
	return nil
}
