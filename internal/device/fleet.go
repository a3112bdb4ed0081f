package device

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/placement"
	"github.com/herald-sched/herald/internal/store"
)

// DefaultFleetRefresh is how old a fleet snapshot may be when a placement
// reads it.
const DefaultFleetRefresh = 500 * time.Millisecond

// latencyWeight is the weight of a new attempt's latency in a device's
// moving average.
const latencyWeight = 0.2

// CircuitKey is the key of a device's circuit (herald's endpoints table),
// and of its in-process host slots.
func CircuitKey(id uuid.UUID) string { return "device:" + id.String() }

// Fleet is this process's view of every device, for placement: read from
// the database at most every Refresh (liveness, load, deliveries in flight
// across replicas, circuits), plus the latency this process measured of its
// own attempts. Snapshots of a pool are cut from it, one per selector, and
// shared until the next refresh.
type Fleet struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	refresh time.Duration

	mu      sync.Mutex
	read    time.Time
	devices []placement.Device
	urls    map[uuid.UUID]*string
	pools   map[string]*placement.Snapshot
	latency map[uuid.UUID]float64 // ms, moving average of this process's attempts
	loading chan struct{}         // closed when the refresh under way ends
	err     error
}

// NewFleet returns the fleet view; timeout is the device timeout, refresh
// the most a snapshot may lag (0: DefaultFleetRefresh).
func NewFleet(pool *pgxpool.Pool, timeout, refresh time.Duration) *Fleet {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if refresh == 0 {
		refresh = DefaultFleetRefresh
	}
	return &Fleet{pool: pool, timeout: timeout, refresh: refresh, latency: map[uuid.UUID]float64{}}
}

// Pool returns the snapshot of the devices carrying every label of
// selector.
func (f *Fleet) Pool(ctx context.Context, selector map[string]string) (*placement.Snapshot, error) {
	if err := f.fresh(ctx); err != nil {
		return nil, err
	}
	key := selectorKey(selector)
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.pools[key]; ok {
		return s, nil
	}
	s := &placement.Snapshot{}
	for _, d := range f.devices {
		if matches(d.Labels, selector) {
			s.Devices = append(s.Devices, d)
		}
	}
	f.pools[key] = s
	return s, nil
}

// Device returns the snapshot of one device (empty when it does not
// exist).
func (f *Fleet) Device(ctx context.Context, id uuid.UUID) (*placement.Snapshot, error) {
	if err := f.fresh(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.devices {
		if d.ID == id {
			return &placement.Snapshot{Devices: []placement.Device{d}}, nil
		}
	}
	return &placement.Snapshot{}, nil
}

// URL is a device's push base URL, nil for a device in pull mode; ok is
// false when the fleet does not know it.
func (f *Fleet) URL(id uuid.UUID) (u *string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok = f.urls[id]
	return u, ok
}

// Online reports whether the last refresh saw the device online.
func (f *Fleet) Online(id uuid.UUID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.devices {
		if d.ID == id {
			return d.Online
		}
	}
	return false
}

// ObserveLatency adds an attempt's latency to a device's moving average.
func (f *Fleet) ObserveLatency(id uuid.UUID, d time.Duration) {
	ms := float64(d.Microseconds()) / 1000
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.latency[id]; ok {
		ms = old + latencyWeight*(ms-old)
	}
	f.latency[id] = ms
}

// Refresh reads the fleet now.
func (f *Fleet) Refresh(ctx context.Context) error {
	f.mu.Lock()
	f.read = time.Time{}
	f.mu.Unlock()
	return f.fresh(ctx)
}

// fresh makes sure the view is at most refresh old; concurrent callers
// share one read.
func (f *Fleet) fresh(ctx context.Context) error {
	for {
		f.mu.Lock()
		if time.Since(f.read) < f.refresh && f.err == nil {
			f.mu.Unlock()
			return nil
		}
		if f.loading != nil {
			wait := f.loading
			f.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return ctx.Err()
			}
			f.mu.Lock()
			err := f.err
			fresh := time.Since(f.read) < f.refresh
			f.mu.Unlock()
			if fresh || err != nil {
				return err
			}
			continue
		}
		f.loading = make(chan struct{})
		f.mu.Unlock()
		devices, urls, err := f.load(ctx)
		f.mu.Lock()
		if err == nil {
			f.devices, f.urls, f.pools, f.read = devices, urls, map[string]*placement.Snapshot{}, time.Now()
		}
		f.err = err
		close(f.loading)
		f.loading = nil
		f.mu.Unlock()
		return err
	}
}

func (f *Fleet) load(ctx context.Context) ([]placement.Device, map[uuid.UUID]*string, error) {
	q := store.New(f.pool)
	rows, err := q.PoolDevices(ctx, f.timeout.Seconds())
	if err != nil {
		return nil, nil, fmt.Errorf("read devices: %w", err)
	}
	leases, err := q.DeviceLeaseCounts(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read device leases: %w", err)
	}
	inFlight := make(map[uuid.UUID]int, len(leases))
	for _, l := range leases {
		inFlight[l.DeviceID] = int(l.N)
	}
	open, err := q.DeviceCircuits(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read device circuits: %w", err)
	}
	circuitOpen := make(map[string]bool, len(open))
	for _, h := range open {
		circuitOpen[h] = true
	}
	f.mu.Lock()
	latency := maps.Clone(f.latency)
	f.mu.Unlock()
	devices := make([]placement.Device, 0, len(rows))
	urls := make(map[uuid.UUID]*string, len(rows))
	for _, r := range rows {
		d := placement.Device{
			ID: r.ID, Name: r.Name, Online: r.Live, Capacity: int(r.Capacity),
			InFlight: inFlight[r.ID], LatencyMs: latency[r.ID], CircuitOpen: circuitOpen[CircuitKey(r.ID)],
			Pull: r.Url == nil,
		}
		if r.Cpu != nil {
			d.CPU = *r.Cpu
		}
		if r.Memory != nil {
			d.Memory = *r.Memory
		}
		if r.QueueDepth != nil {
			d.QueueDepth = int(*r.QueueDepth)
		}
		if err := json.Unmarshal(r.Labels, &d.Labels); err != nil {
			return nil, nil, fmt.Errorf("labels of device %s: %w", r.ID, err)
		}
		devices = append(devices, d)
		urls[r.ID] = r.Url
	}
	return devices, urls, nil
}

func matches(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// selectorKey is a selector's cache key: its labels in key order.
func selectorKey(selector map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(selector)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(selector[k])
		b.WriteByte(0)
	}
	return b.String()
}
