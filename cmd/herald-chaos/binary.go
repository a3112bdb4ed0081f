package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// heraldPackage is the herald command, built when no binary is given; the
// import path resolves from any directory inside the module.
const heraldPackage = "github.com/herald-sched/herald/cmd/herald"

// buildHerald returns the herald binary to run: path when set, else a fresh
// build of the herald command into dir (the suite's work directory, never
// the repository).
func buildHerald(ctx context.Context, path, dir string, logger *slog.Logger) (string, error) {
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("-herald: %w", err)
		}
		return abs, nil
	}
	bin := filepath.Join(dir, "herald")
	begin := time.Now()
	// No VCS stamp: git may refuse a checkout another user owns, and the
	// suite does not report the revision.
	out, err := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin, heraldPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s\n(run herald-chaos inside the herald module, or give a binary with -herald)",
			heraldPackage, err, strings.TrimSpace(string(out)))
	}
	logger.InfoContext(ctx, "built herald", slog.String("bin", bin), slog.Duration("took", time.Since(begin).Round(time.Millisecond)))
	return bin, nil
}
