package deploycheck

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// CopyBuildContext copies the build context an image build of root sends
// (every file under root but those the ignore file excludes, matched as
// docker and BuildKit match them) into dst, and returns how many files it
// copied. Only regular files and directories are copied.
func CopyBuildContext(root, ignoreFile, dst string) (int, error) {
	f, err := os.Open(ignoreFile)
	if err != nil {
		return 0, err
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", ignoreFile, err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", ignoreFile, err)
	}
	var files int
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		ignored, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		switch {
		case ignored && d.IsDir() && !pm.Exclusions():
			return filepath.SkipDir // nothing below can be brought back
		case ignored:
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case d.Type().IsRegular():
			files++
			return copyFile(path, filepath.Join(dst, rel))
		}
		return nil
	})
	return files, err
}

// copyFile copies a regular file, keeping its mode bits, making its
// directory (which may be ignored itself, with the file brought back by an
// exclusion).
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
