package placement

import "github.com/google/uuid"

// Device is one device of a pool as the snapshot saw it.
type Device struct {
	// ID identifies the device.
	ID uuid.UUID
	// Name is the device's name, for explanations.
	Name string
	// Labels are the device's labels; pools select devices by them.
	Labels map[string]string
	// Online says a heartbeat came within the device timeout.
	Online bool
	// CPU and Memory are the device's last reported loads, 0 to 1.
	CPU, Memory float64
	// QueueDepth is the device's last reported queue of work of its own.
	QueueDepth int
	// Capacity is how many deliveries the device takes at once.
	Capacity int
	// InFlight is how many deliveries herald has in flight to it now.
	InFlight int
	// LatencyMs is the latency of herald's recent attempts to it (a moving
	// average); zero when unknown.
	LatencyMs float64
	// CircuitOpen says recent attempts to it failed past the threshold.
	CircuitOpen bool
	// Pull says the device has no URL: it fetches its tasks (pull mode).
	Pull bool
}

// Snapshot is a pool's devices at one moment: the only input of a
// placement besides the task.
type Snapshot struct {
	// Devices are every device the pool's selector may match, in any order.
	Devices []Device
}
