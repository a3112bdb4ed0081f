package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chaosEnv turns on TestChaosSuite: a run of the suite takes over a minute
// and the whole machine, so `make test` leaves it out; `make chaos` is the
// real run.
const chaosEnv = "HERALD_CHAOS"

// TestChaosSuite runs the suite at a tiny size, a SIGKILL and a short
// database outage in 20 seconds of load, and requires it to pass. Timings
// are reported, not asserted.
func TestChaosSuite(t *testing.T) {
	t.Parallel()
	if os.Getenv(chaosEnv) != "1" {
		t.Skip("the chaos suite runs with " + chaosEnv + "=1 (or make chaos)")
	}
	jsonPath := filepath.Join(t.TempDir(), "chaos.json")
	load := defaultLoad()
	load.CronJobs = 3
	opts := options{
		duration:    20 * time.Second,
		pause:       4 * time.Second,
		outage:      3 * time.Second,
		killDown:    2 * time.Second,
		settle:      30 * time.Second,
		slow:        defaultSlow,
		opDeadline:  defaultOpDeadline,
		faults:      []string{stepKill, stepOutage},
		load:        load,
		jsonPath:    jsonPath,
		databaseURL: testDatabaseURL(),
		logLevel:    slog.LevelWarn,
	}
	var out bytes.Buffer
	err := chaos(t.Context(), opts, &out, t.Output())
	t.Log(out.String())
	require.NoError(t, err)

	raw, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var rep report
	require.NoError(t, json.Unmarshal(raw, &rep))
	require.True(t, rep.Passed)
	require.NotEmpty(t, rep.Rows)
}

// testDatabaseURL is the server the tests use: TEST_DATABASE_URL's, else
// DATABASE_URL's, else (empty) an embedded one.
func testDatabaseURL() string {
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		return url
	}
	return os.Getenv("DATABASE_URL")
}
