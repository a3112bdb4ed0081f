package e2e_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/replica"
)

// localArrival is a request a device received from a device-local job.
type localArrival struct {
	device       string
	scheduledFor time.Time
	webhookID    string
}

// A device-local schedule on two replicas, in real time, over devices in
// Tokyo, Kolkata and New York: "*/2 * H,H+1 * * *" with H Tokyo's hour now
// fires every two seconds in Tokyo and, for hours, nowhere else. Only the
// Tokyo devices receive it, each tick once (one run per instant, whatever
// the replica); a device that reports Tokyo starts receiving it, one that
// reports New York stops. Every request's Herald-Scheduled-For is a
// matching local time in Tokyo. (The exact instants in each zone, DST and
// misfires are checked with a set clock in jobs' TestDeviceLocalTicks.)
func TestDeviceLocalScheduleOnTwoReplicas(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	opts := heraldtest.Options{
		Wrap:          heraldtest.ValidateOpenAPI(t),
		DeviceTimeout: 2 * time.Second,
		Replica: func(c *replica.Config) {
			c.HeartbeatInterval = 100 * time.Millisecond
			c.Timeout = 500 * time.Millisecond
		},
	}
	a := &fleetBundle{h: heraldtest.StartOn(t, pool, opts)}
	b := &fleetBundle{h: heraldtest.StartOn(t, pool, opts)}

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	h := time.Now().In(tokyo).Hour()
	cron := fmt.Sprintf("*/2 * %d,%d * * *", h, (h+1)%24)

	var mu sync.Mutex
	var got []localArrival
	zones := map[string]string{
		"tokyo-1": "Asia/Tokyo", "tokyo-2": "Asia/Tokyo", "kolkata-1": "Asia/Kolkata",
		"newyork-1": "America/New_York", "mover": "Asia/Kolkata",
	}
	devs := map[string]*fakeDevice{}
	for _, name := range slices.Sorted(maps.Keys(zones)) {
		rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
			at, err := time.Parse(time.RFC3339Nano, r.Header.Get("Herald-Scheduled-For"))
			if err != nil {
				t.Errorf("Herald-Scheduled-For %q: %v", r.Header.Get("Herald-Scheduled-For"), err)
			}
			mu.Lock()
			got = append(got, localArrival{device: name, scheduledFor: at, webhookID: r.Header.Get("Webhook-Id")})
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		})
		resp := a.h.Do(http.MethodPost, "/v1/devices", map[string]any{
			"name": name, "labels": map[string]string{"fleet": "local"}, "url": rc.URL, "capacity": 4, "timezone": zones[name],
		})
		require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
		var d struct{ ID, Token string }
		resp.JSON(t, &d)
		devs[name] = &fakeDevice{id: d.ID, token: d.Token, name: name, rc: rc}
		var load float64
		a.beat(t, devs[name], &load, &mu)
	}
	arrivals := func(device string) []localArrival {
		mu.Lock()
		defer mu.Unlock()
		var out []localArrival
		for _, x := range got {
			if device == "" || x.device == device {
				out = append(out, x)
			}
		}
		return out
	}
	// report is a heartbeat naming the device's zone, to either replica.
	report := func(via *fleetBundle, name, zone string) time.Time {
		d := devs[name]
		resp := via.h.DoWithHeader(http.MethodPost, "/v1/devices/"+d.id+"/heartbeat",
			map[string]any{"cpu": 0.1, "memory": 0.2, "queue_depth": 0, "timezone": zone},
			http.Header{"Authorization": {"Bearer " + d.token}, "Content-Type": {"application/json"}})
		require.Equal(t, http.StatusNoContent, resp.Status, "body: %s", resp.Body)
		return time.Now()
	}

	resp := a.h.Do(http.MethodPost, "/v1/jobs", map[string]any{
		"name":     t.Name(),
		"schedule": map[string]any{"cron": cron, "timezone": "device"},
		"tasks": []any{map[string]any{
			"id":      "collect",
			"target":  map[string]any{"fleet": map[string]any{"selector": map[string]any{"fleet": "local"}}, "path": "/collect"},
			"request": map[string]any{"body": map[string]any{"logs": "last-hour"}},
			"retry":   map[string]any{"max_attempts": 1},
		}},
	})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var job struct {
		ID            string
		NextFireTimes []time.Time `json:"next_fire_times"`
		DeviceZones   []struct {
			Timezone   string
			Devices    int
			NextFireAt *time.Time `json:"next_fire_at"`
		} `json:"device_zones"`
	}
	resp.JSON(t, &job)

	// The job as the other replica shows it: its zones, with their devices.
	b.h.Do(http.MethodGet, "/v1/jobs/"+job.ID, nil).JSON(t, &job)
	require.Len(t, job.DeviceZones, 3, "%+v", job.DeviceZones)
	counts := map[string]int{}
	for _, z := range job.DeviceZones {
		counts[z.Timezone] = z.Devices
		require.NotNil(t, z.NextFireAt, z.Timezone)
	}
	require.Equal(t, map[string]int{"America/New_York": 1, "Asia/Kolkata": 2, "Asia/Tokyo": 2}, counts)
	require.NotEmpty(t, job.NextFireTimes)

	heraldtest.Eventually(t, 20*time.Second, func() bool {
		return len(arrivals("tokyo-1")) >= 2 && len(arrivals("tokyo-2")) >= 2
	}, "the Tokyo devices did not receive two ticks")

	// The mover arrives in Tokyo (reported to the other replica), and
	// tokyo-2 leaves for New York.
	moved := report(b, "mover", "Asia/Tokyo")
	left := report(a, "tokyo-2", "America/New_York")
	heraldtest.Eventually(t, 20*time.Second, func() bool { return len(arrivals("mover")) >= 2 }, "the mover never ticked in Tokyo")
	time.Sleep(3 * time.Second) // more ticks, on both replicas

	require.Empty(t, arrivals("kolkata-1"), "a device in Kolkata received Tokyo's ticks")
	require.Empty(t, arrivals("newyork-1"), "a device in New York received Tokyo's ticks")
	for _, x := range arrivals("mover") {
		require.False(t, x.scheduledFor.Before(moved.Add(-2*time.Second).Truncate(time.Second)),
			"the mover received the tick of %s, before it reported Tokyo at %s", x.scheduledFor, moved)
	}
	for _, x := range arrivals("tokyo-2") {
		require.False(t, x.scheduledFor.After(left.Add(2*time.Second)),
			"tokyo-2 received the tick of %s, after it reported New York at %s", x.scheduledFor, left)
	}
	require.Less(t, len(arrivals("tokyo-2")), len(arrivals("tokyo-1")), "tokyo-2 kept receiving after it left")

	seen := map[string]bool{}
	webhookIDs := map[string]bool{}
	for _, x := range arrivals("") {
		local := x.scheduledFor.In(tokyo)
		require.Zero(t, local.Second()%2, "tick %s is not an even second", x.scheduledFor)
		require.Zero(t, x.scheduledFor.Nanosecond(), "tick %s is not a whole second", x.scheduledFor)
		require.Contains(t, []int{h, (h + 1) % 24}, local.Hour(), "tick %s is not in the hours of the schedule in Tokyo", local)
		key := x.device + "@" + x.scheduledFor.String()
		require.False(t, seen[key], "%s received the tick of %s twice", x.device, x.scheduledFor)
		seen[key] = true
		require.False(t, webhookIDs[x.webhookID], "webhook-id %s twice", x.webhookID)
		webhookIDs[x.webhookID] = true
	}

	// Every run is one Tokyo instant, named by its zone.
	var runs struct {
		Data []struct {
			Trigger      string
			ScheduledFor time.Time `json:"scheduled_for"`
			DeviceZones  []string  `json:"device_zones"`
		}
	}
	b.h.Do(http.MethodGet, "/v1/runs?job_id="+job.ID+"&limit=100", nil).JSON(t, &runs)
	require.NotEmpty(t, runs.Data)
	instants := map[time.Time]bool{}
	for _, r := range runs.Data {
		require.Equal(t, "schedule", r.Trigger)
		require.Equal(t, []string{"Asia/Tokyo"}, r.DeviceZones)
		require.False(t, instants[r.ScheduledFor], "two runs of %s", r.ScheduledFor)
		instants[r.ScheduledFor] = true
	}
}
