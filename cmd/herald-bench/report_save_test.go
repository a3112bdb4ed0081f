package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// brokenPipe is a stdout whose reader is gone.
type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, errors.New("write |1: broken pipe") }

// The results are written before the table is printed: a stdout nobody
// reads loses the table, not the results.
func TestSaveKeepsTheResultsWhenStdoutIsGone(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.json")
	rep := &report{Size: tinySize(), Results: []result{}}
	err := rep.save(path, brokenPipe{})
	require.ErrorContains(t, err, "broken pipe")
	_, statErr := os.Stat(path)
	require.NoError(t, statErr, "the results were written first")
}
