package views

import (
	"fmt"
	"net/url"
	"time"

	"github.com/a-h/templ"
)

// DeviceRow is a device on the device list, and the head of its page.
type DeviceRow struct {
	ID       string
	Name     string
	Mode     string // push or pull
	URL      string // the push base URL, "" in pull mode
	State    string // online, offline or never_seen
	Capacity int32
	Timezone string
	// Labels are key=value, in key order.
	Labels        []string
	LastHeartbeat *time.Time
	OfflineSince  *time.Time
	CPU, Memory   *float64 // 0 to 1, as last reported
	QueueDepth    *int32
	// InFlight counts its deliveries in flight (leases), across replicas.
	InFlight int
	// Circuit is its circuit's state: closed (also when herald never failed
	// to reach it), open; Failures its consecutive failures, LastError the
	// latest of them.
	Circuit   string
	Failures  int32
	LastError string
	CreatedAt time.Time
}

// Load writes the device's reported load: "cpu 35% · mem 50% · queue 2", or
// a dash before its first heartbeat.
func (d DeviceRow) Load() string {
	if d.CPU == nil && d.Memory == nil && d.QueueDepth == nil {
		return "—"
	}
	s := ""
	if d.CPU != nil {
		s += fmt.Sprintf("cpu %.0f%%", *d.CPU*100)
	}
	if d.Memory != nil {
		if s != "" {
			s += " · "
		}
		s += fmt.Sprintf("mem %.0f%%", *d.Memory*100)
	}
	if d.QueueDepth != nil {
		if s != "" {
			s += " · "
		}
		s += fmt.Sprintf("queue %d", *d.QueueDepth)
	}
	return s
}

// DeviceFilter is the device list's filter form, as submitted.
type DeviceFilter struct {
	Label string // key=value
}

// DevicesPage is the device list.
type DevicesPage struct {
	Rows   []DeviceRow
	Filter DeviceFilter
	// Next, when not empty, links to the older devices.
	Next  string
	Clock Clock
	// Timeout is the device timeout: a device is online until it passes
	// without a heartbeat.
	Timeout string
}

// DevicePage is one device: its definition, liveness and latest attempts.
type DevicePage struct {
	Device   DeviceRow
	Attempts []DeviceAttempt
	Clock    Clock
	Timeout  string
}

// DeviceAttempt is an attempt placed on a device.
type DeviceAttempt struct {
	RunID, JobID, JobName, TaskID string
	Attempt                       int32
	StartedAt                     time.Time
	DurationMs                    float64
	Status                        string // "" when no response came
	Outcome                       string
	Error                         string
	Placement                     string
}

// labelFilterURL is the device list filtered by one label (key=value).
func labelFilterURL(label string) templ.SafeURL {
	return templ.SafeURL("/devices?label=" + url.QueryEscape(label))
}
