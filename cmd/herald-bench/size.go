package main

import (
	"encoding/json"
	"fmt"
	"time"
)

// size is how big and how long every scenario runs.
type size struct {
	// Name is the preset's name: short, full, or a test's own.
	Name string
	// Warmup runs load before a throughput window opens, so that
	// connection pools, caches and the queue are in their steady state.
	Warmup time.Duration
	// Baseline is the measured window of River's no-op throughput.
	Baseline time.Duration
	// Delivery is the measured window of herald's delivery throughput.
	Delivery time.Duration
	// FireJobs is how many per-second schedules the lateness scenario runs.
	FireJobs int
	// FireSeconds is how many whole seconds of their ticks are measured.
	FireSeconds int
	// SpreadJobs is how many schedules the spread scenario runs, each
	// firing every 10 seconds, a tenth of them at each second.
	SpreadJobs int
	// SpreadSeconds is how many whole seconds of their ticks are measured.
	SpreadSeconds int
	// Ingest is the measured window of API ingest.
	Ingest time.Duration
	// DAGTasks is the DAG's task count, DAGChain the length of its chain.
	DAGTasks int
	DAGChain int
	// MemorySteps are the active schedule counts at which resident memory
	// is read, ascending.
	MemorySteps []int
	// Settle is how long the herald process idles before its memory is read.
	Settle time.Duration
	// HeartbeatDevices is how many devices the heartbeat scenario registers,
	// each heartbeating every heartbeatPeriod.
	HeartbeatDevices int
	// PlacementDevices is the pool the placement scenario places tasks in,
	// every device online.
	PlacementDevices int
	// PullDevices is how many pull-mode devices long-poll at once in the
	// pull scenario.
	PullDevices int
	// Latency is the measured window of the placement and pull scenarios,
	// which trigger runs at a steady, light rate.
	Latency time.Duration
	// Quiet is how long the WAL must stay put for the database to count as
	// quiet, at both ends of a cost measurement (see costProbe); Idle is
	// how long the idle database is watched first, for the polls that are
	// subtracted from the statements.
	Quiet, Idle time.Duration
}

// Cost measurements of the presets: the WAL is quiet for 400 ms (the WAL
// writer flushes every 200 ms; River's completions within 250 ms of a job's
// end), the idle database watched for a second.
const (
	defaultQuiet = 400 * time.Millisecond
	defaultIdle  = time.Second
)

// shortSize is the default preset: every scenario in about three minutes.
func shortSize() size {
	return size{
		Name:          "short",
		Warmup:        time.Second,
		Baseline:      5 * time.Second,
		Delivery:      5 * time.Second,
		FireJobs:      100,
		FireSeconds:   5,
		SpreadJobs:    1_000,
		SpreadSeconds: 10,
		Ingest:        5 * time.Second,
		DAGTasks:      2_000,
		DAGChain:      100,
		MemorySteps:   []int{1_000, 10_000},
		Settle:        3 * time.Second,

		HeartbeatDevices: 1_000,
		PlacementDevices: 2_000,
		PullDevices:      100,
		Latency:          5 * time.Second,
		Quiet:            defaultQuiet,
		Idle:             defaultIdle,
	}
}

// fullSize is the preset the targets are set for (`make bench`).
func fullSize() size {
	return size{
		Name:          "full",
		Warmup:        2 * time.Second,
		Baseline:      30 * time.Second,
		Delivery:      30 * time.Second,
		FireJobs:      1_000,
		FireSeconds:   60,
		SpreadJobs:    10_000,
		SpreadSeconds: 30,
		Ingest:        30 * time.Second,
		DAGTasks:      10_000,
		DAGChain:      100,
		MemorySteps:   []int{10_000, 100_000},
		Settle:        10 * time.Second,

		HeartbeatDevices: 10_000,
		PlacementDevices: 10_000,
		PullDevices:      1_000,
		Latency:          30 * time.Second,
		Quiet:            defaultQuiet,
		Idle:             defaultIdle,
	}
}

// sizeByName returns the preset called name.
func sizeByName(name string) (size, error) {
	switch name {
	case "short":
		return shortSize(), nil
	case "full":
		return fullSize(), nil
	}
	return size{}, fmt.Errorf("-size %q: want short or full", name)
}

// MarshalJSON writes the size with its durations in Go's notation ("30s").
func (s size) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name        string `json:"name"`
		Warmup      string `json:"warmup"`
		Baseline    string `json:"baseline"`
		Delivery    string `json:"delivery"`
		FireJobs    int    `json:"fire_jobs"`
		FireSeconds int    `json:"fire_seconds"`
		SpreadJobs  int    `json:"spread_jobs"`
		SpreadSecs  int    `json:"spread_seconds"`
		Ingest      string `json:"ingest"`
		DAGTasks    int    `json:"dag_tasks"`
		DAGChain    int    `json:"dag_chain"`
		MemorySteps []int  `json:"memory_steps"`
		Settle      string `json:"settle"`
		Heartbeat   int    `json:"heartbeat_devices"`
		Placement   int    `json:"placement_devices"`
		Pull        int    `json:"pull_devices"`
		Latency     string `json:"latency"`
		Quiet       string `json:"quiet"`
		Idle        string `json:"idle"`
	}{
		s.Name, s.Warmup.String(), s.Baseline.String(), s.Delivery.String(), s.FireJobs, s.FireSeconds,
		s.SpreadJobs, s.SpreadSeconds, s.Ingest.String(), s.DAGTasks, s.DAGChain, s.MemorySteps, s.Settle.String(),
		s.HeartbeatDevices, s.PlacementDevices, s.PullDevices, s.Latency.String(), s.Quiet.String(), s.Idle.String(),
	})
}
