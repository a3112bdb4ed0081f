package deploycheck

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
)

// mainModule is the first line of the product's go.mod.
const mainModule = "module github.com/herald-sched/herald\n"

// Root returns the repository's root: the nearest directory at or above the
// working directory whose go.mod declares herald's module (tools/ has a go.mod
// of its own, so this walks past it).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte(mainModule)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/herald-sched/herald at or above the working directory")
		}
		dir = parent
	}
}
