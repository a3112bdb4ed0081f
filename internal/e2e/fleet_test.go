package e2e_test

import (
	"fmt"
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

// fleetRun is GET /v1/runs/{id} of a run with a fleet task.
type fleetRun struct {
	State string `json:"state"`
	Tasks []struct {
		TaskID    string  `json:"task_id"`
		State     string  `json:"state"`
		LastError *string `json:"last_error"`
		Rollout   *struct {
			Status       string  `json:"status"`
			Reason       *string `json:"reason"`
			Devices      int     `json:"devices"`
			WavesStarted int     `json:"waves_started"`
			Waves        []struct {
				Size, Waiting, Queued, Running, Succeeded, Failed, Cancelled int
			} `json:"waves"`
		} `json:"rollout"`
	} `json:"tasks"`
}

type member struct {
	DeviceID  string  `json:"device_id"`
	Wave      int     `json:"wave"`
	State     string  `json:"state"`
	WebhookID string  `json:"webhook_id"`
	LastError *string `json:"last_error"`
}

// arrival is a request a fleet's device received, and when.
type arrival struct {
	device string
	at     time.Time
}

// fleetOf registers n devices labelled fleet=name, heartbeating, whose
// answers respond gives (nil: 200), and records when each request arrives.
func fleetOf(t *testing.T, b *fleetBundle, name string, n int, respond func(dev int) int) ([]*fakeDevice, func() []arrival) {
	t.Helper()
	var mu sync.Mutex
	var got []arrival
	devs := make([]*fakeDevice, n)
	loads := make([]float64, n)
	for i := range devs {
		i := i
		devs[i] = b.device(t, fmt.Sprintf("%s-%02d", name, i), map[string]string{"fleet": name}, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
			mu.Lock()
			got = append(got, arrival{device: devs[i].id, at: time.Now()})
			mu.Unlock()
			status := http.StatusOK
			if respond != nil {
				status = respond(i)
			}
			w.WriteHeader(status)
		})
		b.beat(t, devs[i], &loads[i], &mu)
	}
	b.waitOnline(t, devs...)
	return devs, func() []arrival {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func (b *fleetBundle) fleetJob(t *testing.T, name string, rollout map[string]any) string {
	t.Helper()
	task := map[string]any{
		"target":  map[string]any{"fleet": map[string]any{"selector": map[string]any{"fleet": name}}, "path": "/update"},
		"request": map[string]any{"body": map[string]any{"firmware": "2.4.1"}},
		"retry":   map[string]any{"max_attempts": 1},
	}
	if rollout != nil {
		task["rollout"] = rollout
	}
	resp := b.h.Do(http.MethodPost, "/v1/jobs", map[string]any{"name": t.Name(), "tasks": []any{task}})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID string }
	resp.JSON(t, &j)
	return j.ID
}

func (b *fleetBundle) fleetRun(t *testing.T, runID string) fleetRun {
	t.Helper()
	var r fleetRun
	resp := b.h.Do(http.MethodGet, "/v1/runs/"+runID, nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	resp.JSON(t, &r)
	return r
}

func (b *fleetBundle) members(t *testing.T, runID, task string) []member {
	t.Helper()
	var page struct{ Data []member }
	resp := b.h.Do(http.MethodGet, "/v1/runs/"+runID+"/tasks/"+task+"/devices?limit=500", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	resp.JSON(t, &page)
	return page.Data
}

// Waves [1, 30%, 100%] with a pause over ten devices: one device, then two
// more, then the other seven, each wave after the previous settled and the
// pause passed; every device receives the update once, with its own
// webhook-id, and the run succeeds.
func TestFleetRolloutSendsInWaves(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	devs, arrivals := fleetOf(t, b, "waves", 10, nil)
	job := b.fleetJob(t, "waves", map[string]any{"waves": []any{1, "30%", "100%"}, "pause": "1s"})
	runID := b.trigger(t, job)
	heraldtest.Eventually(t, 30*time.Second, func() bool { return b.fleetRun(t, runID).State != "running" }, "the rollout did not end")
	r := b.fleetRun(t, runID)
	require.Equal(t, "succeeded", r.State, "%+v", r)
	ro := r.Tasks[0].Rollout
	require.NotNil(t, ro)
	require.Equal(t, "done", ro.Status)
	require.Equal(t, 10, ro.Devices)
	require.Equal(t, 3, ro.WavesStarted)
	sizes := []int{}
	for _, w := range ro.Waves {
		sizes = append(sizes, w.Size)
		require.Equal(t, w.Size, w.Succeeded)
	}
	require.Equal(t, []int{1, 2, 7}, sizes)

	got := arrivals()
	require.Len(t, got, 10, "each device once")
	waveOf := map[string]int{}
	webhookIDs := map[string]bool{}
	for _, m := range b.members(t, runID, "main") {
		waveOf[m.DeviceID] = m.Wave
		require.Equal(t, "succeeded", m.State)
		webhookIDs[m.WebhookID] = true
	}
	require.Len(t, waveOf, 10)
	require.Len(t, webhookIDs, 10, "a webhook-id per device")
	seen := map[string]bool{}
	last := map[int]time.Time{}
	first := map[int]time.Time{}
	for _, a := range got {
		require.False(t, seen[a.device], "device %s received the update twice", a.device)
		seen[a.device] = true
		w := waveOf[a.device]
		if first[w].IsZero() {
			first[w] = a.at
		}
		last[w] = a.at
	}
	for w := 1; w < 3; w++ {
		require.True(t, first[w].After(last[w-1].Add(time.Second)), "wave %d started %s after wave %d's last arrival, before the pause of 1s", w+1, first[w].Sub(last[w-1]), w)
	}
	require.Len(t, devs, 10)
}

// A wave whose three devices all answer 500 aborts the rollout: the reason
// says which bound, the waves after it are cancelled and nothing more is
// sent; the run waits. Resume sends the cancelled members (the devices
// answer 200 by then) and the run succeeds.
func TestFleetRolloutAbortsAndResumes(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	var mu sync.Mutex
	failing := true
	_, arrivals := fleetOf(t, b, "abort", 10, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	job := b.fleetJob(t, "abort", map[string]any{"waves": []any{3, "100%"}, "abort_if": map[string]any{"failed_ratio": 0.1}})
	runID := b.trigger(t, job)
	heraldtest.Eventually(t, 20*time.Second, func() bool {
		ro := b.fleetRun(t, runID).Tasks[0].Rollout
		return ro != nil && ro.Status == "aborted"
	}, "the rollout did not abort")
	time.Sleep(2 * time.Second) // nothing more goes out
	require.Len(t, arrivals(), 3, "only the first wave was sent")
	r := b.fleetRun(t, runID)
	require.Equal(t, "running", r.State, "an aborted rollout waits for a resume or a cancel")
	ro := r.Tasks[0].Rollout
	require.Contains(t, *ro.Reason, "failed ratio 1.00 (3 of 3 devices sent to) is above abort_if.failed_ratio 0.1")
	require.Equal(t, 3, ro.Waves[0].Failed)
	require.Equal(t, 7, ro.Waves[1].Cancelled)
	for _, m := range b.members(t, runID, "main") {
		if m.Wave == 1 {
			require.Equal(t, "cancelled", m.State)
			require.Contains(t, *m.LastError, "rollout aborted: failed ratio")
		}
	}
	require.Equal(t, http.StatusConflict, b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/pause", nil).Status, "an aborted rollout is not running")

	mu.Lock()
	failing = false
	mu.Unlock()
	resp := b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/resume", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	heraldtest.Eventually(t, 20*time.Second, func() bool { return b.fleetRun(t, runID).State != "running" }, "the resumed rollout did not end")
	r = b.fleetRun(t, runID)
	require.Equal(t, "failed", r.State, "the first wave's three failures stay failures")
	require.Equal(t, "done", r.Tasks[0].Rollout.Status)
	require.Equal(t, 7, r.Tasks[0].Rollout.Waves[1].Succeeded)
	require.Len(t, arrivals(), 10)
	require.Equal(t, http.StatusConflict, b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/resume", nil).Status, "nothing left to resume")
}

// Two replicas on one database run the same rollout: each wave starts once
// (every device receives the update once), and a pause on one replica and
// a resume on the other hold and continue it.
func TestFleetRolloutOnTwoReplicas(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	opts := heraldtest.Options{
		Wrap:          heraldtest.ValidateOpenAPI(t),
		DeviceTimeout: time.Second,
		Replica: func(c *replica.Config) {
			c.HeartbeatInterval = 100 * time.Millisecond
			c.Timeout = 500 * time.Millisecond
		},
	}
	a := &fleetBundle{h: heraldtest.StartOn(t, pool, opts)}
	b := &fleetBundle{h: heraldtest.StartOn(t, pool, opts)}
	_, arrivals := fleetOf(t, a, "two", 12, func(int) int {
		time.Sleep(300 * time.Millisecond) // slow devices: the pause lands mid-rollout
		return http.StatusOK
	})
	job := a.fleetJob(t, "two", map[string]any{"waves": []any{2, 6, "100%"}})
	runID := a.trigger(t, job)
	heraldtest.Eventually(t, 20*time.Second, func() bool {
		ro := b.fleetRun(t, runID).Tasks[0].Rollout
		return ro != nil && ro.WavesStarted >= 2
	}, "the second wave did not start")
	resp := b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/pause", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	time.Sleep(2 * time.Second) // what was in flight finishes; nothing more starts
	held := a.fleetRun(t, runID).Tasks[0].Rollout
	require.Equal(t, "paused", held.Status)
	require.Less(t, held.WavesStarted, 3, "a wave started while paused")
	sent := len(arrivals())
	time.Sleep(time.Second)
	require.Equal(t, sent, len(arrivals()), "a paused rollout sent more")

	resp = a.h.Do(http.MethodPost, "/v1/runs/"+runID+"/resume", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	heraldtest.Eventually(t, 30*time.Second, func() bool { return a.fleetRun(t, runID).State != "running" }, "the rollout did not end")
	r := b.fleetRun(t, runID)
	require.Equal(t, "succeeded", r.State, "%+v", r)
	got := arrivals()
	require.Len(t, got, 12, "every device once: no wave started twice")
	seen := map[string]bool{}
	for _, x := range got {
		require.False(t, seen[x.device], "device %s received the update twice", x.device)
		seen[x.device] = true
	}
}

// A fleet task in a DAG: its child starts once every member has settled,
// and refers to the fleet's counts. A fleet matching no device succeeds at
// once with no members, or fails when the job requires devices.
func TestFleetTaskInADAGAndEmptyFleets(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	var mu sync.Mutex
	_, arrivals := fleetOf(t, b, "dag", 3, func(dev int) int {
		mu.Lock()
		defer mu.Unlock()
		time.Sleep(200 * time.Millisecond)
		if dev == 0 {
			return http.StatusBadRequest // one device refuses: not retried
		}
		return http.StatusOK
	})
	report := heraldtest.NewReceiver(t, nil)
	resp := b.h.Do(http.MethodPost, "/v1/jobs", map[string]any{"name": t.Name(), "tasks": []any{
		map[string]any{"id": "update", "target": map[string]any{"fleet": map[string]any{"selector": map[string]any{"fleet": "dag"}}}, "retry": map[string]any{"max_attempts": 1}},
		map[string]any{"id": "report", "depends_on": []string{"update"}, "run_if": "all_done", "request": map[string]any{
			"url":  report.URL,
			"body": map[string]any{"summary": "{{ tasks.update.succeeded }} of {{ tasks.update.devices }} updated, {{ tasks.update.failed }} failed"},
		}},
	}})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID string }
	resp.JSON(t, &j)
	runID := b.trigger(t, j.ID)
	heraldtest.Eventually(t, 20*time.Second, func() bool { return b.fleetRun(t, runID).State != "running" }, "the run did not end")
	r := b.fleetRun(t, runID)
	require.Equal(t, "failed", r.State, "one member failed: the fleet task failed")
	require.Equal(t, "failed", r.Tasks[1].State, "%+v", r) // tasks by id: report, update
	require.Equal(t, 1, report.Count())
	require.Len(t, arrivals(), 3)
	last := arrivals()[2].at
	require.True(t, report.Requests()[0].At.After(last), "the child started before the fleet settled")
	require.JSONEq(t, `{"summary": "2 of 3 updated, 1 failed"}`, string(report.Requests()[0].Body))

	for _, tc := range []struct {
		require bool
		want    string
	}{{false, "succeeded"}, {true, "failed"}} {
		resp := b.h.Do(http.MethodPost, "/v1/jobs", map[string]any{"name": t.Name(), "tasks": []any{map[string]any{
			"target": map[string]any{"fleet": map[string]any{"selector": map[string]any{"fleet": "nobody"}}}, "rollout": map[string]any{"require_devices": tc.require},
		}}})
		require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
		resp.JSON(t, &j)
		runID := b.trigger(t, j.ID)
		heraldtest.Eventually(t, 10*time.Second, func() bool { return b.fleetRun(t, runID).State != "running" }, "an empty fleet's run did not end")
		r := b.fleetRun(t, runID)
		require.Equal(t, tc.want, r.State)
		require.Contains(t, *r.Tasks[0].Rollout.Reason, "no device matched the fleet's selector")
		if tc.require {
			require.Contains(t, *r.Tasks[0].LastError, "(rollout.require_devices)")
		}
		require.Equal(t, 0, r.Tasks[0].Rollout.Devices)
	}
}
