package handlers_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// waitRunState waits until the run is in state want.
func waitRunState(t *testing.T, h *heraldtest.Herald, runID, want string) {
	t.Helper()
	heraldtest.Eventually(t, 30*time.Second, func() bool {
		var r struct{ State string }
		h.Do(http.MethodGet, "/v1/runs/"+runID, nil).JSON(t, &r)
		return r.State == want
	}, "the run is "+want)
}

// A run's page offers only the actions that apply to it, and they follow
// the run live: Cancel while it runs, Retry once it failed, neither once it
// succeeded. A form that is refused (a Cancel posted after the run ended,
// from a page left open) comes back to the run's page, which says why,
// instead of a bare 409.
func TestRunPageOffersOnlyValidActions(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	release := make(chan struct{})
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		switch r.Path {
		case "/held":
			<-release
		case "/broken":
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	task := func(path string) map[string]any {
		return map[string]any{"name": path, "tasks": []any{map[string]any{"request": map[string]any{"url": rc.URL + path}}}}
	}
	_, held := startRun(t, h, task("/held"))
	_, broken := startRun(t, h, task("/broken"))
	_, fine := startRun(t, h, task("/fine"))
	waitRunState(t, h, broken, "failed")
	waitRunState(t, h, fine, "succeeded")

	buttons := `[...document.querySelectorAll('.actions button')].map(b => b.getAttribute('data-testid')).join(',')`
	ctx := browser(t)
	var runningButtons, endedButtons, failedButtons, succeededButtons, flash, failedPage string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(h.Server.URL+"/runs/"+held),
		chromedp.WaitVisible(`[data-testid="run-state"][data-state="running"]`),
		chromedp.Evaluate(buttons, &runningButtons),
	))
	require.Equal(t, "cancel", runningButtons, "a running run can be cancelled, not retried")

	// The run ends while its page is open: the live page drops Cancel.
	close(release)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible(`[data-testid="run-state"][data-state="succeeded"]`),
		chromedp.Evaluate(buttons, &endedButtons),
	))
	require.Empty(t, endedButtons, "a succeeded run offers no action")

	// A Cancel posted anyway (a form from before) comes back with the reason.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Evaluate(`(() => { const f = document.createElement('form'); f.method = 'post';
			f.action = '/runs/`+held+`/cancel'; document.body.appendChild(f); f.submit(); })()`, nil),
		chromedp.WaitVisible(`[data-testid="flash"]`),
		chromedp.Text(`[data-testid="flash"]`, &flash),
		chromedp.WaitVisible(`[data-testid="run-state"]`),
	))
	require.Contains(t, flash, "the run is succeeded")

	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(h.Server.URL+"/runs/"+broken),
		chromedp.WaitVisible(`[data-testid="run-state"][data-state="failed"]`),
		chromedp.Evaluate(buttons, &failedButtons),
		chromedp.OuterHTML(`main`, &failedPage),
		chromedp.Navigate(h.Server.URL+"/runs/"+fine),
		chromedp.WaitVisible(`[data-testid="run-state"][data-state="succeeded"]`),
		chromedp.Evaluate(buttons, &succeededButtons),
	))
	require.Equal(t, "retry", failedButtons, "a failed run can be retried, not cancelled")
	require.Empty(t, succeededButtons)
	require.NotContains(t, failedPage, `data-testid="flash"`, "a message is shown once")
	require.NotContains(t, failedPage, ".000 ", "no empty milliseconds")
}

// Times: a Berlin schedule's ticks and runs in Berlin time, with how soon
// or how long ago; the viewer can switch every page to UTC (kept in a
// cookie) and back. A paused job shows no next tick.
func TestTimesInTheScheduleZoneAndPausedJobsWithoutTicks(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true})
	create := func(job map[string]any) string {
		resp := h.Do(http.MethodPost, "/v1/jobs", job)
		require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
		var j struct{ ID string }
		resp.JSON(t, &j)
		return j.ID
	}
	one := []any{map[string]any{"request": map[string]any{"url": "https://device.example/hook"}}}
	berlin := create(map[string]any{"name": "berlin", "schedule": map[string]any{"cron": "0 3 * * *", "timezone": "Europe/Berlin"}, "tasks": one})
	paused := create(map[string]any{"name": "paused", "paused": true, "schedule": map[string]any{"cron": "*/5 * * * * *"}, "tasks": one})

	ctx := browser(t)
	var ticks, pausedTicks, pausedRow, utcTicks, listRow, back string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(h.Server.URL+"/jobs/"+berlin),
		chromedp.WaitVisible(`[data-testid="next-ticks"]`),
		textNow(`[data-testid="next-ticks"]`, &ticks),
		chromedp.Navigate(h.Server.URL+"/jobs/"+paused),
		chromedp.WaitVisible(`[data-testid="next-ticks"]`),
		textNow(`[data-testid="next-ticks"]`, &pausedTicks),
		chromedp.Navigate(h.Server.URL+"/jobs"),
		chromedp.WaitVisible(`[data-testid="next-`+paused+`"]`),
		textNow(`[data-testid="next-`+paused+`"]`, &pausedRow),
		// Every page in UTC, chosen in the header.
		chromedp.Navigate(h.Server.URL+"/jobs/"+berlin),
		chooseZone("UTC"),
		chromedp.WaitVisible(`[data-testid="zone-toggle"][data-zone="UTC"]`),
		textNow(`[data-testid="next-ticks"]`, &utcTicks),
		chromedp.Navigate(h.Server.URL+"/jobs"),
		chromedp.WaitVisible(`[data-testid="next-`+berlin+`"]`),
		textNow(`[data-testid="next-`+berlin+`"]`, &listRow),
		// And back to each schedule's zone.
		chooseZone(""),
		chromedp.WaitVisible(`[data-testid="zone-toggle"][data-zone=""]`),
		textNow(`[data-testid="next-`+berlin+`"]`, &back),
	))
	// How soon depends on the hour the test runs: "in 55 min" at 02:05 Berlin.
	berlinTick := regexp.MustCompile(`\d{4}-\d\d-\d\d 03:00:00 CES?T +(now|in \d+ (s|min|h|d))`)
	require.Regexp(t, berlinTick, ticks, "ticks in Berlin time, with how soon")
	require.Equal(t, 5, strings.Count(ticks, ":00:00 CE"), "five next ticks: %s", ticks)
	require.NotContains(t, ticks, ".000")
	require.Contains(t, pausedTicks, "No ticks while paused")
	require.NotRegexp(t, `\d\d:\d\d:\d\d`, pausedTicks)
	require.Contains(t, pausedRow, "none while paused")
	require.Regexp(t, `\d{4}-\d\d-\d\d 0[12]:00:00 UTC`, utcTicks, "the viewer's choice: UTC")
	require.Contains(t, listRow, "UTC")
	require.Regexp(t, berlinTick, back)
}

// chooseZone picks zone in the header's time zone form and submits it, in
// one script: chromedp.SetValue and chromedp.Submit each resolve the node a
// query found, and the header's form is on every page, so a query run as a
// navigation lands can find the page before's form and fail with "No node
// with given id found".
func chooseZone(zone string) chromedp.Action {
	var submitted bool
	return chromedp.Poll(fmt.Sprintf(`(() => {
		const f = document.querySelector('[data-testid="zone-toggle"]');
		if (!f || document.readyState !== 'complete') return null;
		f.querySelector('select').value = %q;
		f.submit();
		return true;
	})()`, zone), &submitted)
}

// textNow reads the visible text of the first element matching sel in one
// script, where chromedp.Text resolves a node and then reads it: a page
// replaced in between (a form's redirect landing) fails that with "No node
// with given id found".
func textNow(sel string, out *string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : null })()`, sel), out)
}
