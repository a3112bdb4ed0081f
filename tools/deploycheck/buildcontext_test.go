package deploycheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCopyBuildContext(t *testing.T) {
	t.Parallel()
	src, dst := t.TempDir(), t.TempDir()
	for _, name := range []string{
		"go.mod", "cmd/herald/main.go", "cmd/herald/herald.test", "internal/x/x.go",
		".git/HEAD", "tools/go.mod", "docs/a.md", "docs/keep.md", "bin/herald",
	} {
		p := filepath.Join(src, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(name), 0o644))
	}
	ignore := filepath.Join(t.TempDir(), "ignore")
	require.NoError(t, os.WriteFile(ignore, []byte("# comment\n.git\ntools\nbin\n**/*.test\ndocs\n!docs/keep.md\n"), 0o644))

	n, err := CopyBuildContext(src, ignore, dst)
	require.NoError(t, err)
	var got []string
	require.NoError(t, filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	}))
	slices.Sort(got)
	require.Equal(t, []string{"cmd/herald/main.go", "docs/keep.md", "go.mod", "internal/x/x.go"}, got)
	require.Equal(t, len(got), n)
	b, err := os.ReadFile(filepath.Join(dst, "cmd/herald/main.go"))
	require.NoError(t, err)
	require.Equal(t, "cmd/herald/main.go", string(b))
}
