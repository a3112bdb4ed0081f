package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// heraldPackage is the import path of the herald command, built when no
// binary is given: it resolves from any directory inside the module.
const heraldPackage = "github.com/herald-sched/herald/cmd/herald"

// heraldBinary returns the herald binary to run and a function that removes
// what it built: path itself when set, else a fresh `go build` of the
// herald command in a temporary directory.
func heraldBinary(ctx context.Context, path string, logger *slog.Logger) (string, func(), error) {
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", nil, fmt.Errorf("-herald: %w", err)
		}
		return abs, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "herald-bench-bin-")
	if err != nil {
		return "", nil, err
	}
	remove := func() { _ = os.RemoveAll(dir) }
	bin := filepath.Join(dir, "herald")
	begin := time.Now()
	logger.InfoContext(ctx, "building herald", slog.String("package", heraldPackage))
	if err := goBuild(ctx, bin); err != nil {
		remove()
		return "", nil, fmt.Errorf("%w\n(run herald-bench inside the herald module, or give a binary with -herald)", err)
	}
	logger.InfoContext(ctx, "built herald", slog.Duration("took", time.Since(begin).Round(time.Millisecond)))
	return bin, remove, nil
}

// goBuild builds the herald command into bin, stamped with its VCS revision
// for the report when git can tell it (GOFLAGS may turn stamping off, and
// git may refuse the repository: the build then goes without).
func goBuild(ctx context.Context, bin string) error {
	var err error
	for _, vcs := range []string{"-buildvcs=auto", "-buildvcs=false"} {
		var out []byte
		out, err = exec.CommandContext(ctx, "go", "build", vcs, "-o", bin, heraldPackage).CombinedOutput()
		if err == nil {
			return nil
		}
		err = errors.Join(fmt.Errorf("go build %s %s: %w", vcs, heraldPackage, err), errors.New(strings.TrimSpace(string(out))))
	}
	return err
}
