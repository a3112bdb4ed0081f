package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tinySize runs every scenario end to end in a few seconds.
func tinySize() size {
	return size{
		Name:          "tiny",
		Warmup:        200 * time.Millisecond,
		Baseline:      time.Second,
		Delivery:      time.Second,
		FireJobs:      5,
		FireSeconds:   1,
		SpreadJobs:    20,
		SpreadSeconds: 2,
		Ingest:        time.Second,
		DAGTasks:      50,
		DAGChain:      10,
		MemorySteps:   []int{1_000},
		Settle:        200 * time.Millisecond,

		HeartbeatDevices: 50,
		PlacementDevices: 20,
		PullDevices:      5,
		Latency:          time.Second,
		Quiet:            150 * time.Millisecond,
		Idle:             250 * time.Millisecond,
	}
}

// testDatabaseURL is the server the tests use: TEST_DATABASE_URL's, else
// DATABASE_URL's, else (empty) an embedded one.
func testDatabaseURL() string {
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		return url
	}
	return os.Getenv("DATABASE_URL")
}

// TestSmoke runs every scenario at a tiny size and checks that each produced
// its figures, or was skipped because herald lacks the feature. It asserts
// nothing about the figures themselves: timings in a test prove nothing.
func TestSmoke(t *testing.T) {
	jsonPath := filepath.Join(t.TempDir(), "results.json")
	opts := options{size: tinySize(), jsonPath: jsonPath, databaseURL: testDatabaseURL(), logLevel: slog.LevelWarn}
	var table bytes.Buffer
	require.NoError(t, bench(t.Context(), opts, &table, t.Output()))
	t.Log(table.String())

	raw, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var rep struct {
		Machine struct {
			Cores      int    `json:"cores"`
			PostgreSQL string `json:"postgresql"`
			Go         string `json:"go"`
			Date       string `json:"date"`
			HostProbe  struct {
				Syscall       float64 `json:"syscall_us"`
				TCPRoundTrip  float64 `json:"tcp_round_trip_us"`
				HTTPRoundTrip float64 `json:"http_round_trip_us"`
			} `json:"host_probe"`
		} `json:"machine"`
		Results []struct {
			Scenario string `json:"scenario"`
			Skipped  string `json:"skipped"`
			Metrics  []struct {
				Name   string   `json:"name"`
				Value  *float64 `json:"value"`
				Target string   `json:"target"`
				Pass   *bool    `json:"pass"`
			} `json:"metrics"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(raw, &rep))
	require.Positive(t, rep.Machine.Cores)
	require.Contains(t, rep.Machine.PostgreSQL, "PostgreSQL")
	require.NotEmpty(t, rep.Machine.Go)
	require.NotEmpty(t, rep.Machine.Date)
	require.Positive(t, rep.Machine.HostProbe.Syscall)
	require.Positive(t, rep.Machine.HostProbe.TCPRoundTrip)
	require.Positive(t, rep.Machine.HostProbe.HTTPRoundTrip)

	want := map[string][]string{
		"baseline": {"River no-op jobs", "WAL per job", "jobs measured"},
		"delivery": {"deliveries, API-fed", "deliveries, DB-fed", "API-fed: WAL per delivery", "DB-fed: WAL per delivery", "DB-fed: deliveries measured"},
		"lateness": {"lateness p50", "lateness p99", "lateness p99.9", "lateness max", "missed ticks", "doubled ticks", "burst floor p50", "burst floor p99"},
		"spread":   {"active schedules", "lateness p50", "lateness p99", "missed ticks", "doubled ticks"},
		"ingest":   {"jobs created", "latency p50", "latency p99"},
		"dag":      {"run total", "tasks", "chain hop p50", "chain hop p99"},
		"memory":   {"RSS idle", "RSS at 1000 schedules", "beyond idle per 10000 schedules"},
		"heartbeat": {"deliveries before heartbeats", "deliveries during heartbeats", "deliveries during / mean of before and after",
			"heartbeats ingested during deliveries", "heartbeat latency p99, paced", "flat out: WAL per heartbeat"},
		"placement": {"pool task: trigger to arrival p50", "pool task: trigger to arrival p99", "URL task: trigger to arrival p50", "devices chosen"},
		"pull":      {"trigger to device p50", "trigger to device p99", "herald's database connections while they wait"},
		"fleet":     {"trigger answered (run and members created)", "trigger to last arrival", "fleet deliveries, first to last arrival", "devices not reached", "fleet rate / single-task runs' rate (DB-fed)"},
	}
	require.Len(t, rep.Results, len(want))
	for _, res := range rep.Results {
		if res.Skipped != "" {
			require.True(t, strings.HasPrefix(res.Skipped, "not available: "), "%s skipped: %s", res.Scenario, res.Skipped)
			continue
		}
		got := map[string]bool{}
		for _, m := range res.Metrics {
			require.NotNil(t, m.Value, "%s: %s has no value", res.Scenario, m.Name)
			if m.Target != "" {
				require.NotNil(t, m.Pass, "%s: %s has a target but no verdict", res.Scenario, m.Name)
			}
			got[m.Name] = true
		}
		for _, name := range want[res.Scenario] {
			require.True(t, got[name], "%s: no figure %q", res.Scenario, name)
		}
	}
}
