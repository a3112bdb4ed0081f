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

// A rollout on its run's page: each wave's members by state, the reason
// of an abort and a Resume button, which continues it; the page follows
// the rollout to its end and then offers neither Pause nor Resume.
func TestRolloutOnTheRunPageInTheBrowser(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	b := &testBundle{h: h}
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	var ids []string
	for _, name := range []string{"gw-1", "gw-2", "gw-3"} {
		d := b.createDevice(t, map[string]any{"name": name, "labels": map[string]any{"site": "9"}, "url": rc.URL})
		require.Equal(t, http.StatusNoContent, b.heartbeat(t, d.ID, d.Token, map[string]any{"cpu": 0.1, "memory": 0.2, "queue_depth": 0}).Status)
		ids = append(ids, d.ID)
	}
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var d deviceBody
		h.Do(http.MethodGet, "/v1/devices/"+ids[2], nil).JSON(t, &d)
		return d.State == "online"
	}, "the heartbeats are written")
	time.Sleep(600 * time.Millisecond) // the fleet snapshots see them

	_, runID := startRun(t, h, map[string]any{"name": "firmware 2.4.1", "tasks": []any{map[string]any{
		"id": "update", "target": map[string]any{"fleet": map[string]any{"selector": map[string]any{"site": "9"}}},
		"retry":   map[string]any{"max_attempts": 1},
		"rollout": map[string]any{"waves": []any{1, "100%"}, "abort_if": map[string]any{"failed_ratio": 0.5}},
	}}})
	heraldtest.Eventually(t, 20*time.Second, func() bool {
		var r struct {
			Tasks []struct{ Rollout struct{ Status string } }
		}
		h.Do(http.MethodGet, "/v1/runs/"+runID, nil).JSON(t, &r)
		return r.Tasks[0].Rollout.Status == "aborted"
	}, "the canary's failure did not abort the rollout")

	ctx := browser(t)
	var (
		status, reason, wave2, after string
		resumeButtons, pauseButtons  int
		shot                         []byte
	)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.Server.URL+"/runs/"+runID),
		chromedp.WaitVisible(`[data-testid="rollout-update"]`),
		// The live page replaces its parts as the run changes: each read
		// and the click is one script (textNow), not a node looked up and
		// then used.
		chromedp.Poll(`(() => { const e = document.querySelector('[data-testid="rollout-state-update"]'); return e ? e.dataset.state : null })()`, &status),
		textNow(`[data-testid="rollout-reason-update"]`, &reason),
		textNow(`[data-testid="rollout-update"] tr[data-wave="2"]`, &wave2),
		chromedp.FullScreenshot(&shot, 100),
		chromedp.Poll(`(() => { const e = document.querySelector('[data-testid="resume"]'); if (!e) return false; e.click(); return true })()`, nil),
		chromedp.WaitVisible(`[data-testid="rollout-state-update"][data-state="done"]`),
		textNow(`[data-testid="rollout-update"] tr[data-wave="2"]`, &after),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="resume"]').length`, &resumeButtons),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="pause"]').length`, &pauseButtons),
	))
	require.Equal(t, "aborted", status)
	require.Contains(t, reason, "rollout aborted: failed ratio 1.00 (1 of 1 devices sent to)")
	require.Contains(t, wave2, "cancelled 2")
	require.Contains(t, after, "failed 2")
	require.Zero(t, resumeButtons+pauseButtons, "a finished rollout offers neither")
	if dir := os.Getenv("HERALD_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "rollout-aborted.png"), shot, 0o644))
	}
}
