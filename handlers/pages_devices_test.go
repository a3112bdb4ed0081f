package handlers_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// The device list shows each device's mode, state, load, circuit and
// deliveries in flight, filtered by a label; a job's page says where its
// pool task would go now, and why; a device's page lists the attempts
// placed on it.
func TestDevicePagesAndPlacementInTheBrowser(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	b := &testBundle{h: h}
	rc := heraldtest.NewReceiver(t, nil)
	idle := b.createDevice(t, map[string]any{"name": "gw-idle", "labels": map[string]any{"site": "17"}, "url": rc.URL, "capacity": 3})
	busy := b.createDevice(t, map[string]any{"name": "gw-busy", "labels": map[string]any{"site": "17"}, "url": rc.URL, "capacity": 2})
	b.createDevice(t, map[string]any{"name": "van-far", "labels": map[string]any{"site": "18"}})
	require.Equal(t, http.StatusNoContent, b.heartbeat(t, idle.ID, idle.Token, map[string]any{"cpu": 0.1, "memory": 0.2, "queue_depth": 0}).Status)
	require.Equal(t, http.StatusNoContent, b.heartbeat(t, busy.ID, busy.Token, map[string]any{"cpu": 0.85, "memory": 0.8, "queue_depth": 40}).Status)
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var d deviceBody
		h.Do(http.MethodGet, "/v1/devices/"+busy.ID, nil).JSON(t, &d)
		return d.State == "online"
	}, "the heartbeats are written")

	jobID, runID := startRun(t, h, map[string]any{"name": "site sync", "tasks": []any{
		map[string]any{"id": "sync", "target": map[string]any{"pool": map[string]any{"selector": map[string]any{"site": "17"}}, "path": "/sync"}},
	}})
	waitRunState(t, h, runID, "succeeded")

	ctx := browser(t)
	var (
		names, filtered                       []string
		idleState, farState, busyLoad, flight string
		circuit, placedOn, explain            string
		attempts                              string
		listPNG, jobPNG                       []byte
	)
	rowNames := `[...document.querySelectorAll('[data-testid="devices"] tbody tr')].map(r => r.getAttribute('data-name'))`
	require.NoError(t, chromedp.Run(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.Server.URL+"/jobs"),
		chromedp.Click(`[data-testid="nav-devices"]`),
		chromedp.WaitVisible(`[data-testid="devices"]`),
		chromedp.Evaluate(rowNames, &names),
		chromedp.AttributeValue(`[data-testid="device-state-gw-idle"]`, "data-state", &idleState, nil),
		chromedp.AttributeValue(`[data-testid="device-state-van-far"]`, "data-state", &farState, nil),
		chromedp.Text(`[data-testid="load-gw-busy"]`, &busyLoad),
		chromedp.Text(`[data-testid="in-flight-gw-idle"]`, &flight),
		chromedp.AttributeValue(`[data-testid="circuit-gw-idle"]`, "data-state", &circuit, nil),
		chromedp.FullScreenshot(&listPNG, 100),
		// Filter by a label.
		chromedp.SendKeys(`[data-testid="device-filter"] input[name="label"]`, "site=17"),
		chromedp.Submit(`[data-testid="device-filter"]`),
		chromedp.WaitVisible(`[data-testid="device-filter"] input[value="site=17"]`),
		chromedp.Evaluate(rowNames, &filtered),
		// The job's page: where its pool task would go now.
		chromedp.Navigate(h.Server.URL+"/jobs/"+jobID),
		chromedp.WaitVisible(`[data-testid="placements"]`),
		chromedp.AttributeValue(`[data-testid="placement-sync"]`, "data-device", &placedOn, nil),
		chromedp.Text(`[data-testid="explain-sync"]`, &explain),
		chromedp.FullScreenshot(&jobPNG, 100),
		// The device chosen, and the attempt placed on it.
		chromedp.Click(`[data-testid="placement-sync"] a`),
		chromedp.WaitVisible(`[data-testid="device-attempts"]`),
		chromedp.Text(`[data-testid="device-attempts"]`, &attempts),
	))
	require.ElementsMatch(t, []string{"gw-idle", "gw-busy", "van-far"}, names)
	require.Equal(t, "online", idleState)
	require.Equal(t, "never_seen", farState)
	require.Equal(t, "cpu 85% · mem 80% · queue 40", busyLoad)
	require.Equal(t, "0 / 3", flight)
	require.Equal(t, "closed", circuit)
	require.ElementsMatch(t, []string{"gw-idle", "gw-busy"}, filtered)
	require.Equal(t, "gw-idle", placedOn, "the less loaded device")
	require.Regexp(t, `^load_aware: gw-idle \d\.\d\d of 2 eligible; next gw-busy \d\.\d\d$`, explain)
	require.Contains(t, attempts, "site sync")
	require.Contains(t, attempts, "200")
	require.Contains(t, attempts, "load_aware: gw-idle")

	if dir := os.Getenv("HERALD_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "devices.png"), listPNG, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "job-placement.png"), jobPNG, 0o644))
	}
}
