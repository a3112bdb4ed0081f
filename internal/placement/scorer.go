package placement

// Scorer rates a device for a task, in [0, 1]: higher is better.
type Scorer interface {
	// Name names the scorer in explanations.
	Name() string
	// Score rates d for t.
	Score(t *Task, d *Device) float64
}

// Weighted is a scorer and its weight in the chain's combined score.
type Weighted struct {
	Scorer Scorer
	Weight float64
}

// FreeCPU prefers idle processors: 1 - cpu.
type FreeCPU struct{}

// Name implements Scorer.
func (FreeCPU) Name() string { return "cpu" }

// Score implements Scorer.
func (FreeCPU) Score(_ *Task, d *Device) float64 { return clamp01(1 - d.CPU) }

// FreeMemory prefers free memory: 1 - memory.
type FreeMemory struct{}

// Name implements Scorer.
func (FreeMemory) Name() string { return "memory" }

// Score implements Scorer.
func (FreeMemory) Score(_ *Task, d *Device) float64 { return clamp01(1 - d.Memory) }

// ShortQueue prefers devices with little work of their own waiting:
// 1 / (1 + depth/Scale).
type ShortQueue struct {
	// Scale is the queue depth that halves the score. Default 10.
	Scale float64
}

// Name implements Scorer.
func (ShortQueue) Name() string { return "queue" }

// Score implements Scorer.
func (s ShortQueue) Score(_ *Task, d *Device) float64 {
	return 1 / (1 + float64(max(0, d.QueueDepth))/orDefault(s.Scale, 10))
}

// LowLatency prefers devices that answered herald quickly:
// 1 / (1 + ms/ScaleMs); unknown latency scores as ScaleMs.
type LowLatency struct {
	// ScaleMs is the latency that halves the score. Default 100.
	ScaleMs float64
}

// Name implements Scorer.
func (LowLatency) Name() string { return "latency" }

// Score implements Scorer.
func (s LowLatency) Score(_ *Task, d *Device) float64 {
	scale := orDefault(s.ScaleMs, 100)
	ms := d.LatencyMs
	if ms <= 0 {
		ms = scale
	}
	return 1 / (1 + ms/scale)
}

// FreeCapacity prefers devices with few of their slots taken:
// 1 - in flight / capacity.
type FreeCapacity struct{}

// Name implements Scorer.
func (FreeCapacity) Name() string { return "in_flight" }

// Score implements Scorer.
func (FreeCapacity) Score(_ *Task, d *Device) float64 {
	if d.Capacity <= 0 {
		return 1
	}
	return clamp01(1 - float64(d.InFlight)/float64(d.Capacity))
}

func clamp01(x float64) float64 { return min(1, max(0, x)) }

func orDefault(x, def float64) float64 {
	if x <= 0 {
		return def
	}
	return x
}
