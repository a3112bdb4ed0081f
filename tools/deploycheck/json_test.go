package deploycheck

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// readJSON decodes the JSON file at path into v or fails the test.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), "%s", path)
}
