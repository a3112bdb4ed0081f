package main

import (
	"fmt"
	"io"
	"runtime"
)

// version is the release this binary was built as, set at link time by the
// container image's build (deploy/Dockerfile: -ldflags "-X main.version=...").
// Empty in other builds, which report their VCS revision instead (see
// revision).
var version string

// versionText is what `herald version` (and --version) prints: the release
// ("devel" when not stamped), the VCS revision and the Go version.
func versionText() string {
	v := version
	if v == "" {
		v = "devel"
	}
	rev := vcsRevision()
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("herald %s (revision %s, %s, %s/%s)\n", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func printVersion(w io.Writer) { fmt.Fprint(w, versionText()) }
