package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// pulled is a task a pull-mode device got.
type pulled struct {
	LeaseID   string    `json:"lease_id"`
	WebhookID string    `json:"webhook_id"`
	Deadline  time.Time `json:"deadline"`
	Request   struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"request"`
}

// pullLoop is a device without a listening port: it long-polls herald for
// its tasks with its own token, verifies each one's signature with the
// official Standard Webhooks library, and reports what handle answers.
func (b *fleetBundle) pullLoop(t *testing.T, d *fakeDevice, secret string, handle func(p pulled) (int, any)) (got func() []pulled) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu   sync.Mutex
		seen []pulled
		done = make(chan struct{})
	)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	auth := http.Header{"Authorization": {"Bearer " + d.token}}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.h.Server.URL+"/v1/devices/"+d.id+"/tasks?wait=2s", nil)
			req.Header = auth.Clone()
			resp, err := b.h.Server.Client().Do(req)
			if err != nil {
				return // the test ended
			}
			if resp.StatusCode == http.StatusNoContent {
				resp.Body.Close()
				continue
			}
			var p pulled
			err = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("pull: status %d, %v", resp.StatusCode, err)
				return
			}
			h := http.Header{}
			for k, v := range p.Request.Headers {
				h.Set(k, v)
			}
			if err := wh.Verify([]byte(p.Request.Body), h); err != nil {
				t.Errorf("the pulled task's signature does not verify: %v", err)
			}
			mu.Lock()
			seen = append(seen, p)
			mu.Unlock()
			status, body := handle(p)
			rr := b.h.DoWithHeader(http.MethodPost, "/v1/devices/"+d.id+"/tasks/"+p.LeaseID+"/result",
				map[string]any{"status": status, "body": body}, auth)
			if rr.Status != http.StatusNoContent {
				t.Errorf("report: %d %s", rr.Status, rr.Body)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() []pulled {
		mu.Lock()
		defer mu.Unlock()
		return append([]pulled(nil), seen...)
	}
}

// A pull-mode device with no listening port completes a three-task DAG,
// the second task carrying what the first answered, every request signed
// as a push is.
func TestPullModeDeviceCompletesADAG(t *testing.T) {
	t.Parallel()
	b := setupFleet(t)
	rc := heraldtest.NewReceiver(t, nil) // only to satisfy the device helper: a pull device has no URL
	rc.Close()
	resp := b.h.Do(http.MethodPost, "/v1/devices", map[string]any{"name": "van-7", "labels": map[string]any{"fleet": "vans"}})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var created struct{ ID, Token, Mode string }
	resp.JSON(t, &created)
	require.Equal(t, "pull", created.Mode)
	van := &fakeDevice{id: created.ID, token: created.Token, name: "van-7"}
	var mu sync.Mutex
	load := 0.2
	b.beat(t, van, &load, &mu)
	b.waitOnline(t, van)

	resp = b.h.Do(http.MethodPost, "/v1/jobs", map[string]any{"name": t.Name(), "tasks": []any{
		map[string]any{"id": "fetch", "target": map[string]any{"device": van.id, "path": "/fetch"}},
		map[string]any{"id": "apply", "depends_on": []string{"fetch"}, "target": map[string]any{"device": van.id, "path": "/apply?now=1"},
			"request": map[string]any{"body": map[string]any{"token": "{{ tasks.fetch.body.token }}"}}},
		map[string]any{"id": "report", "depends_on": []string{"apply"}, "target": map[string]any{"pool": map[string]any{"selector": map[string]any{"fleet": "vans"}}, "path": "/report"}},
	}})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID, Secret string }
	resp.JSON(t, &j)
	got := b.pullLoop(t, van, j.Secret, func(p pulled) (int, any) {
		switch {
		case p.Request.Path == "/fetch":
			return 200, map[string]any{"token": "t-42"}
		case strings.HasPrefix(p.Request.Path, "/apply"):
			return 200, "applied"
		default:
			return 204, nil
		}
	})
	runID := b.trigger(t, j.ID)
	heraldtest.Eventually(t, 20*time.Second, func() bool { return b.run(t, runID).State != "running" },
		"run did not end: %+v (device got %d tasks)", func() any { r := b.run(t, runID); return r }(), len(got()))
	r := b.run(t, runID)
	require.Equal(t, "succeeded", r.State, "%+v", r)
	tasks := got()
	require.Len(t, tasks, 3)
	require.Equal(t, []string{"/fetch", "/apply?now=1", "/report"}, []string{tasks[0].Request.Path, tasks[1].Request.Path, tasks[2].Request.Path})
	require.JSONEq(t, `{"token":"t-42"}`, tasks[1].Request.Body, "data passed from the first task")
	require.Equal(t, "POST", tasks[1].Request.Method)
	require.Equal(t, tasks[0].WebhookID, tasks[0].Request.Headers["Webhook-Id"])
	for _, task := range r.Tasks {
		require.Equal(t, van.id, task.Attempts[0].DeviceID)
	}
}
