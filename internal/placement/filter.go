package placement

import (
	"fmt"
	"slices"
)

// Filter drops devices that cannot take the task now.
type Filter interface {
	// Reject returns why d cannot take t, or "" when it can. The reason is
	// counted in explanations ("3 offline"), so it names a kind of reason,
	// not the device.
	Reject(t *Task, d *Device) string
}

// LoadThreshold is the cpu and memory load above which a device is not
// given more work.
const LoadThreshold = 0.9

// Offline drops devices without a recent heartbeat.
type Offline struct{}

// Reject implements Filter.
func (Offline) Reject(_ *Task, d *Device) string {
	if !d.Online {
		return "offline"
	}
	return ""
}

// Overloaded drops devices whose cpu or memory is above Threshold.
type Overloaded struct {
	// Threshold is the load above which a device is dropped. Default
	// LoadThreshold.
	Threshold float64
}

// Reject implements Filter.
func (f Overloaded) Reject(_ *Task, d *Device) string {
	limit := f.Threshold
	if limit == 0 {
		limit = LoadThreshold
	}
	switch {
	case d.CPU > limit:
		if limit == LoadThreshold {
			return reasonCPU
		}
		return fmt.Sprintf("cpu above %g", limit)
	case d.Memory > limit:
		if limit == LoadThreshold {
			return reasonMemory
		}
		return fmt.Sprintf("memory above %g", limit)
	}
	return ""
}

// The reasons of Overloaded at the default threshold, made once.
var (
	reasonCPU    = fmt.Sprintf("cpu above %g", LoadThreshold)
	reasonMemory = fmt.Sprintf("memory above %g", LoadThreshold)
)

// CircuitOpen drops devices whose circuit is open.
type CircuitOpen struct{}

// Reject implements Filter.
func (CircuitOpen) Reject(_ *Task, d *Device) string {
	if d.CircuitOpen {
		return "circuit open"
	}
	return ""
}

// CapacityFull drops devices with as many deliveries in flight as their
// capacity.
type CapacityFull struct{}

// Reject implements Filter.
func (CapacityFull) Reject(_ *Task, d *Device) string {
	if d.Capacity > 0 && d.InFlight >= d.Capacity {
		return "capacity full"
	}
	return ""
}

// LabelsMismatch drops devices missing a label of the task's selector.
type LabelsMismatch struct{}

// Reject implements Filter.
func (LabelsMismatch) Reject(t *Task, d *Device) string {
	if len(t.Selector) == 0 {
		return ""
	}
	for k, v := range t.Selector {
		if got, ok := d.Labels[k]; !ok || got != v {
			return "labels not matching"
		}
	}
	return ""
}

// PullOnly drops devices in pull mode for a task that can only be pushed.
type PullOnly struct{}

// Reject implements Filter.
func (PullOnly) Reject(t *Task, d *Device) string {
	if t.PushOnly && d.Pull {
		return "pull mode"
	}
	return ""
}

// AlreadyTried drops devices whose attempt of this task run failed, so that
// a retry goes to the next-best device. The chain lifts it when it would
// leave no device.
type AlreadyTried struct{}

// reasonTried is AlreadyTried's reason.
const reasonTried = "already tried"

// Reject implements Filter.
func (AlreadyTried) Reject(t *Task, d *Device) string {
	if slices.Contains(t.Tried, d.ID) {
		return reasonTried
	}
	return ""
}
