package deploycheck

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testVersion is the VERSION build argument the tests build herald with.
const testVersion = "deploycheck-test"

// binDir holds the herald the tests build; removed after the tests.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// built is herald built as the Dockerfile builds it, once per test process.
var built = sync.OnceValues(func() (*imageBuild, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	df, err := ReadDockerfile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		return nil, err
	}
	gb, err := FindGoBuild(df, map[string]string{"VERSION": testVersion})
	if err != nil {
		return nil, err
	}
	if binDir, err = os.MkdirTemp("", "herald-image-"); err != nil {
		return nil, err
	}
	// The image's user (not root) must be able to run it.
	if err := os.Chmod(binDir, 0o755); err != nil {
		return nil, err
	}
	// The build context the image build sends: the repository less what
	// Dockerfile.dockerignore excludes (the Dockerfile copies it all to its
	// WORKDIR before go build).
	contextDir := filepath.Join(binDir, "context")
	files, err := CopyBuildContext(root, filepath.Join(root, "deploy", "Dockerfile.dockerignore"), contextDir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin := filepath.Join(binDir, "herald")
	line, err := gb.Run(ctx, contextDir, bin)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "deploycheck: built herald as deploy/Dockerfile does, in a copy of its build context (%d files): %s\n", files, line)
	return &imageBuild{Root: root, Dockerfile: df, GoBuild: gb, Binary: bin, Context: contextDir}, nil
})

// imageBuild is the Dockerfile, its build of herald, and the binary.
type imageBuild struct {
	Root       string
	Dockerfile *Dockerfile
	GoBuild    GoBuild
	Binary     string
	// Context is the copy of the build context the binary was built in.
	Context string
}

// image builds herald like the image (once) or fails the test.
func image(t *testing.T) *imageBuild {
	t.Helper()
	b, err := built()
	require.NoError(t, err)
	return b
}

// repoRoot returns the repository's root or fails the test.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := Root()
	require.NoError(t, err)
	return root
}
