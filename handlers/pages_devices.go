package handlers

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/views"
)

// The device pages: the list (liveness, load, circuit, deliveries in
// flight, labels; filtered by a label) and a device with its latest
// attempts. They read the registry as GET /v1/devices does, plus the
// devices' circuits (endpoints rows device:<id>) and leases.

const (
	// pageDevices is how many devices the list shows at a time.
	pageDevices = 100
	// pageDeviceAttempts is how many of its latest attempts a device's page
	// lists.
	pageDeviceAttempts = 50
)

func (a *API) devicesPage(r *http.Request) (templ.Component, error) {
	var req listDevicesRequest
	if err := parseListDevices(nil, r, &req); err != nil {
		return nil, err
	}
	req.page.limit = pageDevices
	list, err := a.listDevices(r.Context(), &req)
	if err != nil {
		return nil, err
	}
	rows, err := a.deviceRows(r.Context(), list.Data)
	if err != nil {
		return nil, err
	}
	p := views.DevicesPage{
		Rows: rows, Filter: views.DeviceFilter{Label: r.URL.Query().Get("label")},
		Clock: a.clock(r.Context(), ""), Timeout: a.deviceTimeout.String(), Next: nextPage(r, list.NextCursor),
	}
	return views.DevicesView(p), nil
}

func (a *API) devicePage(r *http.Request) (templ.Component, error) {
	var req deviceIDRequest
	if err := parseDeviceID(nil, r, &req); err != nil {
		return nil, err
	}
	d, err := a.getDevice(r.Context(), &req)
	if err != nil {
		return nil, err
	}
	rows, err := a.deviceRows(r.Context(), []*deviceResponse{d})
	if err != nil {
		return nil, err
	}
	attempts, err := store.New(a.pool).DeviceAttempts(r.Context(), store.DeviceAttemptsParams{DeviceID: &req.id, MaxRows: pageDeviceAttempts})
	if err != nil {
		return nil, err
	}
	p := views.DevicePage{Device: rows[0], Clock: a.clock(r.Context(), ""), Timeout: a.deviceTimeout.String()}
	for _, at := range attempts {
		da := views.DeviceAttempt{
			RunID: at.RunID.String(), JobID: at.JobID.String(), JobName: at.JobName, TaskID: at.TaskID,
			Attempt: at.Attempt, StartedAt: at.StartedAt, DurationMs: at.DurationMs, Outcome: string(at.Outcome),
		}
		if at.StatusCode != nil {
			da.Status = strconv.Itoa(int(*at.StatusCode))
		}
		if at.Error != nil {
			da.Error = *at.Error
		}
		if at.Placement != nil {
			da.Placement = *at.Placement
		}
		p.Attempts = append(p.Attempts, da)
	}
	return views.DeviceView(p), nil
}

// deviceRows adds to devices as the API shows them their deliveries in
// flight (leases, across replicas) and their circuits.
func (a *API) deviceRows(ctx context.Context, devices []*deviceResponse) ([]views.DeviceRow, error) {
	q := store.New(a.pool)
	leases, err := q.DeviceLeaseCounts(ctx)
	if err != nil {
		return nil, err
	}
	inFlight := make(map[uuid.UUID]int, len(leases))
	for _, l := range leases {
		inFlight[l.DeviceID] = int(l.N)
	}
	hosts := make([]string, len(devices))
	for i, d := range devices {
		hosts[i] = device.CircuitKey(d.ID)
	}
	circuits, err := q.DeviceEndpoints(ctx, hosts)
	if err != nil {
		return nil, err
	}
	byHost := make(map[string]store.DeviceEndpointsRow, len(circuits))
	for _, c := range circuits {
		byHost[c.Host] = c
	}
	rows := make([]views.DeviceRow, len(devices))
	for i, d := range devices {
		row := views.DeviceRow{
			ID: d.ID.String(), Name: d.Name, Mode: d.Mode, State: d.State, Capacity: d.Capacity, Timezone: d.Timezone,
			LastHeartbeat: d.LastHeartbeatAt, OfflineSince: d.OfflineSince, CPU: d.CPU, Memory: d.Memory,
			QueueDepth: d.QueueDepth, InFlight: inFlight[d.ID], Circuit: "closed", CreatedAt: d.CreatedAt,
		}
		if d.URL != nil {
			row.URL = *d.URL
		}
		for _, k := range slices.Sorted(maps.Keys(d.Labels)) {
			row.Labels = append(row.Labels, k+"="+d.Labels[k])
		}
		if c, ok := byHost[hosts[i]]; ok {
			row.Circuit, row.Failures = c.State, c.ConsecutiveFailures
			if c.LastError != nil {
				row.LastError = *c.LastError
			}
		}
		rows[i] = row
	}
	return rows, nil
}
