package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/replica"
)

// fakeDevice is a real HTTP server standing in for an edge device, with
// its registration; heartbeat reports a load through herald's API with its
// own token.
type fakeDevice struct {
	id, token, name string
	rc              *heraldtest.Receiver
}

// fleetBundle is a working herald with a fast liveness (replica heartbeats
// every 100ms, devices offline after 1s), to register devices on; every
// exchange is validated against the OpenAPI document.
type fleetBundle struct {
	h *heraldtest.Herald
}

func setupFleet(t *testing.T) *fleetBundle {
	t.Helper()
	return &fleetBundle{h: heraldtest.Start(t, heraldtest.Options{
		Wrap:          heraldtest.ValidateOpenAPI(t), // every exchange checked against openapi.yaml
		DeviceTimeout: time.Second,
		Replica: func(c *replica.Config) {
			c.HeartbeatInterval = 100 * time.Millisecond
			c.Timeout = 500 * time.Millisecond
		},
	})}
}

func (b *fleetBundle) device(t *testing.T, name string, labels map[string]string, respond func(int, *heraldtest.Request, http.ResponseWriter)) *fakeDevice {
	t.Helper()
	rc := heraldtest.NewReceiver(t, respond)
	resp := b.h.Do(http.MethodPost, "/v1/devices", map[string]any{"name": name, "labels": labels, "url": rc.URL, "capacity": 10})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var d struct{ ID, Token string }
	resp.JSON(t, &d)
	return &fakeDevice{id: d.ID, token: d.Token, name: name, rc: rc}
}

func (b *fleetBundle) heartbeat(t *testing.T, d *fakeDevice, cpu float64) {
	t.Helper()
	resp := b.h.DoWithHeader(http.MethodPost, "/v1/devices/"+d.id+"/heartbeat",
		map[string]any{"cpu": cpu, "memory": 0.2, "queue_depth": 0},
		http.Header{"Authorization": {"Bearer " + d.token}, "Content-Type": {"application/json"}})
	require.Equal(t, http.StatusNoContent, resp.Status, "body: %s", resp.Body)
}

// beat keeps a device heartbeating with the load *cpu until the test ends
// or stop is called.
func (b *fleetBundle) beat(t *testing.T, d *fakeDevice, cpu *float64, mu *sync.Mutex) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			mu.Lock()
			load := *cpu
			mu.Unlock()
			b.heartbeat(t, d, load)
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return stop
}

// waitOnline waits until the devices are online and the fleet snapshots
// of this process may have seen it (they are at most 500ms old).
func (b *fleetBundle) waitOnline(t *testing.T, devs ...*fakeDevice) {
	t.Helper()
	for _, d := range devs {
		heraldtest.Eventually(t, 10*time.Second, func() bool {
			var got struct{ State string }
			b.h.Do(http.MethodGet, "/v1/devices/"+d.id, nil).JSON(t, &got)
			return got.State == "online"
		}, "device %s never online", d.name)
	}
	time.Sleep(600 * time.Millisecond) // device.DefaultFleetRefresh, and a margin
}

func (b *fleetBundle) poolJob(t *testing.T, target map[string]any, task map[string]any) string {
	t.Helper()
	tk := map[string]any{"target": target, "request": map[string]any{"body": map[string]any{"do": "update"}}}
	for k, v := range task {
		tk[k] = v
	}
	resp := b.h.Do(http.MethodPost, "/v1/jobs", map[string]any{"name": t.Name(), "tasks": []any{tk}})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID string }
	resp.JSON(t, &j)
	return j.ID
}

func (b *fleetBundle) trigger(t *testing.T, jobID string) string {
	t.Helper()
	resp := b.h.Do(http.MethodPost, "/v1/jobs/"+jobID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	var r struct{ ID string }
	resp.JSON(t, &r)
	return r.ID
}

type deviceAttempt struct {
	Attempt   int     `json:"attempt"`
	Outcome   string  `json:"outcome"`
	DeviceID  string  `json:"device_id"`
	Placement string  `json:"placement"`
	Error     *string `json:"error"`
}

type deviceRun struct {
	State string `json:"state"`
	Tasks []struct {
		State     string          `json:"state"`
		WebhookID string          `json:"webhook_id"`
		LastError *string         `json:"last_error"`
		Attempts  []deviceAttempt `json:"attempts"`
	} `json:"tasks"`
}

func (b *fleetBundle) run(t *testing.T, runID string) deviceRun {
	t.Helper()
	var r deviceRun
	b.h.Do(http.MethodGet, "/v1/runs/"+runID, nil).JSON(t, &r)
	return r
}

func (b *fleetBundle) waitRun(t *testing.T, runID string, within time.Duration) deviceRun {
	t.Helper()
	var r deviceRun
	heraldtest.Eventually(t, within, func() bool {
		r = b.run(t, runID)
		return r.State != "running"
	}, "run %s did not end", runID)
	return r
}

// Placement follows the load the devices report: the least loaded of five
// gets the task; when another reports less load, it gets the next one.
// Each attempt records the device and the decision.
func TestLoadAwarePlacementFollowsReportedLoad(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	var mu sync.Mutex
	loads := []float64{0.7, 0.2, 0.5, 0.8, 0.6}
	devs := make([]*fakeDevice, len(loads))
	for i := range devs {
		devs[i] = b.device(t, fmt.Sprintf("gw-%d", i+1), map[string]string{"site": "17"}, nil)
		b.beat(t, devs[i], &loads[i], &mu)
	}
	other := b.device(t, "elsewhere", map[string]string{"site": "18"}, nil)
	b.heartbeat(t, other, 0)
	job := b.poolJob(t, map[string]any{"pool": map[string]any{"selector": map[string]any{"site": "17"}}, "path": "/update"}, nil)

	// Once the five heartbeats are seen (the first runs may be placed
	// before all of them are), the least loaded gets the task.
	var r deviceRun
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		r = b.waitRun(t, b.trigger(t, job), 10*time.Second)
		return strings.Contains(r.Tasks[0].Attempts[0].Placement, "of 5 eligible")
	}, "the five devices were never all eligible")
	require.Equal(t, "succeeded", r.State)
	at := r.Tasks[0].Attempts[0]
	require.Equal(t, devs[1].id, at.DeviceID, "the least loaded device (gw-2, cpu 0.2): %s", at.Placement)
	require.Contains(t, at.Placement, "load_aware: gw-2")
	require.Equal(t, "/update", devs[1].rc.Requests()[0].Path)

	mu.Lock()
	loads[1], loads[3] = 0.85, 0.05 // gw-2 busy now, gw-4 idle
	mu.Unlock()
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		r := b.waitRun(t, b.trigger(t, job), 10*time.Second)
		return r.Tasks[0].Attempts[0].DeviceID == devs[3].id
	}, "placement did not follow the new loads")
	require.Zero(t, other.rc.Count(), "a device outside the pool got a task")
}

// A retryable failure is retried on the next-best device, with the same
// webhook-id; the failing device is not tried again.
func TestRetryGoesToTheNextBestDevice(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	var mu sync.Mutex
	loads := []float64{0.1, 0.3, 0.6}
	broken := b.device(t, "broken", map[string]string{"pool": "a"}, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	second := b.device(t, "second", map[string]string{"pool": "a"}, nil)
	third := b.device(t, "third", map[string]string{"pool": "a"}, nil)
	for i, d := range []*fakeDevice{broken, second, third} {
		b.beat(t, d, &loads[i], &mu)
	}
	b.waitOnline(t, broken, second, third)
	job := b.poolJob(t, map[string]any{"pool": map[string]any{"selector": map[string]any{"pool": "a"}}},
		map[string]any{"retry": map[string]any{"max_attempts": 3, "initial_interval": "100ms"}})
	r := b.waitRun(t, b.trigger(t, job), 10*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Equal(t, 1, broken.rc.Count())
	require.Equal(t, 1, second.rc.Count())
	require.Zero(t, third.rc.Count())
	require.Equal(t, broken.rc.Requests()[0].Header.Get("Webhook-Id"), second.rc.Requests()[0].Header.Get("Webhook-Id"))
	require.Equal(t, "2", second.rc.Requests()[0].Header.Get("Herald-Attempt"))
	require.Contains(t, r.Tasks[0].Attempts[1].Placement, "1 already tried")
}

// A device killed mid-task (its server closed, its heartbeats stopped): the
// task is delivered to another device with the same webhook-id.
func TestKilledDevicesTaskIsDeliveredToAnother(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	var mu sync.Mutex
	loads := []float64{0.1, 0.5}
	arrived, dead := make(chan struct{}), make(chan struct{})
	var once sync.Once
	victim := b.device(t, "victim", map[string]string{"pool": "k"}, func(_ int, _ *heraldtest.Request, _ http.ResponseWriter) {
		once.Do(func() { close(arrived) })
		<-dead // mid-task when it dies
	})
	survivor := b.device(t, "survivor", map[string]string{"pool": "k"}, nil)
	stopVictim := b.beat(t, victim, &loads[0], &mu)
	b.beat(t, survivor, &loads[1], &mu)
	b.waitOnline(t, victim, survivor) // the task goes to the victim, the less loaded
	job := b.poolJob(t, map[string]any{"pool": map[string]any{"selector": map[string]any{"pool": "k"}}},
		map[string]any{"retry": map[string]any{"max_attempts": 3, "initial_interval": "100ms"}, "request": map[string]any{"timeout": "60s"}})
	runID := b.trigger(t, job)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the task never reached the first device")
	}
	stopVictim()
	victim.rc.CloseClientConnections() // the device dies mid-task
	close(dead)
	victim.rc.Close()
	killed := time.Now()
	r := b.waitRun(t, runID, 20*time.Second)
	require.Equal(t, "succeeded", r.State, "%+v", r)
	t.Logf("device killed to delivered elsewhere: %s", time.Since(killed).Round(time.Millisecond))
	require.Equal(t, 1, survivor.rc.Count())
	require.Equal(t, r.Tasks[0].WebhookID, survivor.rc.Requests()[0].Header.Get("Webhook-Id"))
}

// A device that goes offline (silent past the device timeout) while it
// holds a request open, without closing the connection, has the request
// abandoned and the task placed again at once on another device, with the
// same webhook-id and no attempt used, not after the request's 60s timeout.
func TestOfflineDevicesInFlightTaskIsPlacedAgain(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	var mu sync.Mutex
	loads := []float64{0.1, 0.5}
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hung := b.device(t, "hung", map[string]string{"pool": "h"}, func(_ int, r *heraldtest.Request, _ http.ResponseWriter) {
		once.Do(func() { close(arrived) })
		<-release // holds the request open, connection and all
	})
	t.Cleanup(func() { close(release) })
	other := b.device(t, "other", map[string]string{"pool": "h"}, nil)
	stopHung := b.beat(t, hung, &loads[0], &mu)
	b.beat(t, other, &loads[1], &mu)
	b.waitOnline(t, hung, other) // the task goes to the less loaded, hung
	job := b.poolJob(t, map[string]any{"pool": map[string]any{"selector": map[string]any{"pool": "h"}}},
		map[string]any{"retry": map[string]any{"max_attempts": 1}, "request": map[string]any{"timeout": "60s"}})
	runID := b.trigger(t, job)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the task never reached the first device")
	}
	stopHung()
	silent := time.Now()
	r := b.waitRun(t, runID, 20*time.Second)
	require.Equal(t, "succeeded", r.State, "%+v", r)
	t.Logf("device silent to delivered elsewhere: %s (device timeout 1s)", time.Since(silent).Round(time.Millisecond))
	require.Equal(t, 1, other.rc.Count())
	require.Equal(t, r.Tasks[0].WebhookID, other.rc.Requests()[0].Header.Get("Webhook-Id"))
	require.Equal(t, r.Tasks[0].WebhookID, hung.rc.Requests()[0].Header.Get("Webhook-Id"), "the same delivery, sent again")
	require.Len(t, r.Tasks[0].Attempts, 1, "the abandoned request used no attempt (max_attempts 1)")
	require.Equal(t, other.id, r.Tasks[0].Attempts[0].DeviceID)
}

// A task for a device that is offline waits without using attempts, saying
// why, and arrives when the device comes back; one whose valid_for passes
// first ends expired.
func TestOfflineDevicePresenceAndValidFor(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	d := b.device(t, "van-3", nil, nil)
	job := b.poolJob(t, map[string]any{"device": d.id, "path": "/sync"}, nil)
	runID := b.trigger(t, job)
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		r := b.run(t, runID)
		return r.Tasks[0].LastError != nil && strings.Contains(*r.Tasks[0].LastError, "waiting for a device: no device eligible: 1 offline")
	}, "the task does not say it waits for its device")
	require.Zero(t, d.rc.Count())
	require.Empty(t, b.run(t, runID).Tasks[0].Attempts, "waiting used an attempt")

	b.heartbeat(t, d, 0.3)
	// The waiting delivery is snoozed (up to deviceWaitMax) and made
	// available again by River's scheduler, which runs every 5 s on the
	// leader.
	r := b.waitRun(t, runID, 10*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Equal(t, 1, d.rc.Count())
	require.Equal(t, "/sync", d.rc.Requests()[0].Path)

	gone := b.device(t, "gone", nil, nil)
	expiring := b.poolJob(t, map[string]any{"device": gone.id}, map[string]any{"valid_for": "1s"})
	r = b.waitRun(t, b.trigger(t, expiring), 15*time.Second)
	require.Equal(t, "failed", r.State)
	require.Equal(t, "expired", r.Tasks[0].State)
	require.Len(t, r.Tasks[0].Attempts, 1)
	require.Equal(t, "expired", r.Tasks[0].Attempts[0].Outcome)
	require.Contains(t, *r.Tasks[0].Attempts[0].Error, "no device was eligible within valid_for (1s)")
	require.Zero(t, gone.rc.Count())
}

// A device that stops heartbeating goes offline after the device timeout.
func TestSilentDeviceGoesOffline(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	d := b.device(t, "quiet", nil, nil)
	b.heartbeat(t, d, 0.1)
	state := func() string {
		var got struct{ State string }
		b.h.Do(http.MethodGet, "/v1/devices/"+d.id, nil).JSON(t, &got)
		return got.State
	}
	require.Equal(t, "online", state())
	heraldtest.Eventually(t, 10*time.Second, func() bool { return state() == "offline" }, "the silent device stayed online")
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var offline bool
		require.NoError(t, b.h.Pool.QueryRow(context.Background(), `SELECT NOT online AND offline_since IS NOT NULL FROM devices WHERE id = $1`, d.id).Scan(&offline))
		return offline
	}, "the sweep did not declare it offline")
}
