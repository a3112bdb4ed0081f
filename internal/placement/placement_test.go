package placement

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// dev is a healthy online device named name with id n.
func dev(n int, name string) Device {
	var id uuid.UUID
	id[15], id[14] = byte(n), byte(n>>8)
	return Device{ID: id, Name: name, Online: true, Capacity: 4, Labels: map[string]string{"site": "17"}}
}

func taskRun(n int) uuid.UUID {
	var id uuid.UUID
	id[0], id[1] = byte(n), byte(n>>8)
	id[6] = 0x70
	return id
}

func TestFilters(t *testing.T) {
	t.Parallel()
	base := dev(1, "gw-1")
	tried := dev(2, "gw-2")
	tests := []struct {
		name   string
		filter Filter
		task   Task
		edit   func(*Device)
		want   string
	}{
		{name: "online passes", filter: Offline{}, want: ""},
		{name: "offline", filter: Offline{}, edit: func(d *Device) { d.Online = false }, want: "offline"},
		{name: "cpu at the threshold passes", filter: Overloaded{}, edit: func(d *Device) { d.CPU = 0.9 }, want: ""},
		{name: "cpu above", filter: Overloaded{}, edit: func(d *Device) { d.CPU = 0.95 }, want: "cpu above 0.9"},
		{name: "memory above", filter: Overloaded{}, edit: func(d *Device) { d.Memory = 0.91 }, want: "memory above 0.9"},
		{name: "own threshold", filter: Overloaded{Threshold: 0.5}, edit: func(d *Device) { d.CPU = 0.6 }, want: "cpu above 0.5"},
		{name: "circuit open", filter: CircuitOpen{}, edit: func(d *Device) { d.CircuitOpen = true }, want: "circuit open"},
		{name: "capacity left", filter: CapacityFull{}, edit: func(d *Device) { d.InFlight = 3 }, want: ""},
		{name: "capacity full", filter: CapacityFull{}, edit: func(d *Device) { d.InFlight = 4 }, want: "capacity full"},
		{name: "labels match", filter: LabelsMismatch{}, task: Task{Selector: map[string]string{"site": "17"}}, want: ""},
		{name: "label value differs", filter: LabelsMismatch{}, task: Task{Selector: map[string]string{"site": "18"}}, want: "labels not matching"},
		{name: "label missing", filter: LabelsMismatch{}, task: Task{Selector: map[string]string{"rack": "a"}}, want: "labels not matching"},
		{name: "empty selector matches all", filter: LabelsMismatch{}, want: ""},
		{name: "not tried", filter: AlreadyTried{}, task: Task{Tried: []uuid.UUID{tried.ID}}, want: ""},
		{name: "tried", filter: AlreadyTried{}, task: Task{Tried: []uuid.UUID{base.ID}}, want: reasonTried},
		{name: "pull device, push task", filter: PullOnly{}, task: Task{PushOnly: true}, edit: func(d *Device) { d.Pull = true }, want: "pull mode"},
		{name: "pull device, any task", filter: PullOnly{}, edit: func(d *Device) { d.Pull = true }, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := dev(1, "gw-1")
			if tt.edit != nil {
				tt.edit(&d)
			}
			if got := tt.filter.Reject(&tt.task, &d); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScorers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scorer Scorer
		edit   func(*Device)
		want   float64
	}{
		{name: "idle cpu", scorer: FreeCPU{}, want: 1},
		{name: "busy cpu", scorer: FreeCPU{}, edit: func(d *Device) { d.CPU = 0.75 }, want: 0.25},
		{name: "cpu out of range", scorer: FreeCPU{}, edit: func(d *Device) { d.CPU = 1.5 }, want: 0},
		{name: "memory", scorer: FreeMemory{}, edit: func(d *Device) { d.Memory = 0.5 }, want: 0.5},
		{name: "empty queue", scorer: ShortQueue{}, want: 1},
		{name: "queue at scale", scorer: ShortQueue{}, edit: func(d *Device) { d.QueueDepth = 10 }, want: 0.5},
		{name: "unknown latency", scorer: LowLatency{}, want: 0.5},
		{name: "fast device", scorer: LowLatency{}, edit: func(d *Device) { d.LatencyMs = 25 }, want: 0.8},
		{name: "free capacity", scorer: FreeCapacity{}, edit: func(d *Device) { d.InFlight = 1 }, want: 0.75},
		{name: "no capacity set", scorer: FreeCapacity{}, edit: func(d *Device) { d.Capacity = 0 }, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := dev(1, "gw-1")
			if tt.edit != nil {
				tt.edit(&d)
			}
			if got := tt.scorer.Score(&Task{}, &d); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func mustChain(t testing.TB, strategy string) *Chain {
	t.Helper()
	c, err := ForStrategy(strategy)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadAwareFollowsLoadAndExplains(t *testing.T) {
	t.Parallel()
	devs := []Device{dev(1, "gw-1"), dev(2, "gw-2"), dev(3, "gw-3"), dev(4, "gw-4"), dev(5, "gw-5"), dev(6, "gw-6")}
	devs[0].CPU, devs[1].CPU, devs[2].CPU = 0.8, 0.1, 0.5
	devs[3].Online = false
	devs[4].CPU = 0.95
	devs[5].Labels = map[string]string{"site": "18"}
	d := mustChain(t, StrategyLoadAware).Place(&Snapshot{Devices: devs}, &Task{TaskRunID: taskRun(1), Selector: map[string]string{"site": "17"}})
	if got := d.Chosen().Name; got != "gw-2" {
		t.Fatalf("chosen: got %s, want gw-2 (the least loaded)", got)
	}
	want := "load_aware: gw-2 0.90 of 3 eligible; next gw-3 0.78, gw-1 0.69; dropped: 1 cpu above 0.9, 1 labels not matching, 1 offline"
	if got := d.Explain(); got != want {
		t.Fatalf("explain:\n got %s\nwant %s", got, want)
	}
}

func TestNoDeviceEligibleSaysWhy(t *testing.T) {
	t.Parallel()
	devs := []Device{dev(1, "a"), dev(2, "b"), dev(3, "c"), dev(4, "d"), dev(5, "e")}
	devs[0].Online, devs[1].Online, devs[2].Online = false, false, false
	devs[3].CPU, devs[4].Memory = 0.99, 0.99
	d := mustChain(t, StrategyLoadAware).Place(&Snapshot{Devices: devs}, &Task{TaskRunID: taskRun(1)})
	if d.Chosen() != nil {
		t.Fatalf("chosen: got %s, want none", d.Chosen().Name)
	}
	if got, want := d.Explain(), "no device eligible: 3 offline, 1 cpu above 0.9, 1 memory above 0.9"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	empty := mustChain(t, StrategyHash).Place(&Snapshot{}, &Task{TaskRunID: taskRun(1)})
	if got, want := empty.Explain(), "no device eligible: the pool has no device"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// A retry goes to the next-best device; when every eligible device was
// tried, to one of them again.
func TestRetryGoesToTheNextBest(t *testing.T) {
	t.Parallel()
	devs := []Device{dev(1, "gw-1"), dev(2, "gw-2"), dev(3, "gw-3")}
	devs[0].CPU, devs[1].CPU, devs[2].CPU = 0.2, 0.1, 0.3
	c := mustChain(t, StrategyLoadAware)
	task := &Task{TaskRunID: taskRun(7)}
	var order []string
	for range 3 {
		d := c.Place(&Snapshot{Devices: devs}, task)
		order = append(order, d.Chosen().Name)
		task.Tried = append(task.Tried, d.Chosen().ID)
	}
	if want := []string{"gw-2", "gw-1", "gw-3"}; !slices.Equal(order, want) {
		t.Fatalf("got %v, want %v", order, want)
	}
	d := c.Place(&Snapshot{Devices: devs}, task)
	if !d.RetriedTried || d.Chosen().Name != "gw-2" {
		t.Fatalf("all tried: got %s (retried tried %v), want gw-2 again", d.Chosen().Name, d.RetriedTried)
	}
	if !strings.Contains(d.Explain(), "all tried before") {
		t.Fatalf("explain: %s", d.Explain())
	}
}

// TopN spreads task runs over the N best devices and never beyond them.
func TestTopNSpreadsOverTheBest(t *testing.T) {
	t.Parallel()
	var devs []Device
	for i := range 10 {
		d := dev(i+1, fmt.Sprintf("gw-%d", i+1))
		d.CPU = float64(i) / 20 // gw-1 best, gw-10 worst
		devs = append(devs, d)
	}
	c := mustChain(t, StrategyLoadAware)
	got := map[string]int{}
	for n := range 300 {
		got[c.Place(&Snapshot{Devices: devs}, &Task{TaskRunID: taskRun(n), TopN: 3}).Chosen().Name]++
	}
	if len(got) != 3 || got["gw-1"] == 0 || got["gw-2"] == 0 || got["gw-3"] == 0 {
		t.Fatalf("got %v, want task runs spread over gw-1, gw-2 and gw-3 only", got)
	}
}

func TestRoundRobinCyclesInIDOrder(t *testing.T) {
	t.Parallel()
	devs := []Device{dev(3, "c"), dev(1, "a"), dev(2, "b")}
	c := mustChain(t, StrategyRoundRobin)
	var got []string
	for seq := range uint64(6) {
		got = append(got, c.Place(&Snapshot{Devices: devs}, &Task{TaskRunID: taskRun(1), Sequence: seq}).Chosen().Name)
	}
	if want := []string{"a", "b", "c", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	d := c.Place(&Snapshot{Devices: devs}, &Task{TaskRunID: taskRun(1), Sequence: 2})
	if got, want := d.Explain(), "round_robin: c of 3 eligible; next a, b"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// Rendezvous hashing: a device leaving moves only its own task runs.
func TestHashMovesOnlyTheLeavingDevicesTasks(t *testing.T) {
	t.Parallel()
	var devs []Device
	for i := range 8 {
		devs = append(devs, dev(i+1, fmt.Sprintf("gw-%d", i+1)))
	}
	c := mustChain(t, StrategyHash)
	before := map[int]string{}
	for n := range 500 {
		before[n] = c.Place(&Snapshot{Devices: devs}, &Task{TaskRunID: taskRun(n)}).Chosen().Name
	}
	devs[3].Online = false // gw-4 leaves
	moved := 0
	for n := range 500 {
		after := c.Place(&Snapshot{Devices: devs}, &Task{TaskRunID: taskRun(n)}).Chosen().Name
		if after != before[n] {
			moved++
			if before[n] != "gw-4" {
				t.Fatalf("task run %d moved from %s to %s", n, before[n], after)
			}
		}
	}
	if moved == 0 {
		t.Fatal("no task run was on gw-4")
	}
}

// Property: the same snapshot and task run give the same decision, in
// whatever order the devices come; the chosen device passes every filter
// (but "already tried" when all were tried).
func TestPlacementIsDeterministicAndHonoursFilters(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		devs := randomPool(rng, 1+rng.IntN(40))
		task := &Task{TaskRunID: taskRun(round), TopN: 1 + rng.IntN(4), Sequence: rng.Uint64(), Selector: map[string]string{}}
		if rng.IntN(2) == 0 {
			task.Selector["site"] = fmt.Sprint(rng.IntN(3))
		}
		for i := range rng.IntN(3) {
			task.Tried = append(task.Tried, devs[i%len(devs)].ID)
		}
		for _, strategy := range Strategies {
			c := mustChain(t, strategy)
			first := c.Place(&Snapshot{Devices: devs}, task)
			shuffled := slices.Clone(devs)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			again := c.Place(&Snapshot{Devices: shuffled}, task)
			if first.Explain() != again.Explain() {
				t.Fatalf("round %d %s: not deterministic:\n%s\n%s", round, strategy, first.Explain(), again.Explain())
			}
			chosen := first.Chosen()
			if chosen == nil {
				continue
			}
			for _, f := range c.Filters {
				reason := f.Reject(task, chosen)
				if reason != "" && !(reason == reasonTried && first.RetriedTried) {
					t.Fatalf("round %d %s: chose %s, which %T rejects: %s", round, strategy, chosen.Name, f, reason)
				}
			}
		}
	}
}

func randomPool(rng *rand.Rand, n int) []Device {
	devs := make([]Device, n)
	for i := range devs {
		d := dev(i+1, fmt.Sprintf("d%d", i+1))
		d.Online = rng.IntN(5) > 0
		d.CPU, d.Memory = rng.Float64(), rng.Float64()
		d.QueueDepth = rng.IntN(30)
		d.InFlight = rng.IntN(5)
		d.LatencyMs = float64(rng.IntN(300))
		d.CircuitOpen = rng.IntN(10) == 0
		d.Labels = map[string]string{"site": fmt.Sprint(rng.IntN(3))}
		if rng.IntN(4) == 0 { // ties
			d.CPU, d.Memory, d.QueueDepth, d.LatencyMs, d.InFlight = 0.5, 0.5, 1, 10, 0
		}
		devs[i] = d
	}
	return devs
}

func TestUnknownStrategy(t *testing.T) {
	t.Parallel()
	if _, err := ForStrategy("random"); err == nil || !strings.Contains(err.Error(), "load_aware") {
		t.Fatalf("got %v, want an error listing the strategies", err)
	}
}

// BenchmarkPlace places one task in a pool of 10,000 devices (a tenth of
// them offline or loaded), per strategy.
func BenchmarkPlace(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{100, 10_000} {
		devs := randomPool(rng, size)
		for _, strategy := range Strategies {
			b.Run(fmt.Sprintf("%s/%d", strategy, size), func(b *testing.B) {
				c := mustChain(b, strategy)
				snap := &Snapshot{Devices: devs}
				task := &Task{TopN: 3}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					task.TaskRunID = taskRun(i)
					task.Sequence = uint64(i)
					if c.Place(snap, task).Eligible == 0 {
						b.Fatal("nothing eligible")
					}
				}
			})
		}
	}
}
