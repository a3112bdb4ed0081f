package pgembed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// debianBinGlob matches the per-version binary directories of Debian and
// Ubuntu's postgresql packages, which do not put initdb or pg_ctl on PATH.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// requiredBinaries are the programs Start runs: initdb and pg_ctl directly,
// postgres through pg_ctl, which expects it next to itself.
var requiredBinaries = []string{"initdb", "pg_ctl", "postgres"}

// findBinaries returns the directory holding requiredBinaries: binDir when
// set, else the directory initdb on PATH resolves to, else the highest
// version matching debianBinGlob.
func findBinaries(binDir string) (string, error) {
	if binDir != "" {
		if missing := missingBinaries(binDir); len(missing) > 0 {
			return "", fmt.Errorf("pgembed: %s missing from BinDir %s: %w", strings.Join(missing, ", "), binDir, ErrNoBinaries)
		}
		return binDir, nil
	}
	if dir, ok := binariesOnPath(); ok {
		return dir, nil
	}
	dirs, err := filepath.Glob(debianBinGlob)
	if err != nil {
		return "", fmt.Errorf("pgembed: %s: %w", debianBinGlob, err)
	}
	slices.SortFunc(dirs, func(a, b string) int { return slices.Compare(versionOf(b), versionOf(a)) })
	for _, dir := range dirs {
		if len(missingBinaries(dir)) == 0 {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgembed: %w", ErrNoBinaries)
}

// binariesOnPath returns the directory initdb on PATH lives in, symbolic
// links resolved, if pg_ctl and postgres are there too: taking all three from
// one directory keeps their versions in step.
func binariesOnPath() (string, bool) {
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", false
	}
	initdb, err = filepath.EvalSymlinks(initdb)
	if err != nil {
		return "", false
	}
	dir, err := filepath.Abs(filepath.Dir(initdb))
	if err != nil || len(missingBinaries(dir)) > 0 {
		return "", false
	}
	return dir, true
}

// missingBinaries lists the requiredBinaries that are not executable files in
// dir.
func missingBinaries(dir string) []string {
	var missing []string
	for _, name := range requiredBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}

// versionOf parses the version in a path matching debianBinGlob, such as
// /usr/lib/postgresql/15/bin or /usr/lib/postgresql/9.6/bin; nil when there
// is none.
func versionOf(binDir string) []int {
	var version []int
	for _, part := range strings.Split(filepath.Base(filepath.Dir(binDir)), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil
		}
		version = append(version, n)
	}
	return version
}
