package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// browser starts headless Chromium (Debian's chromium package) for a test;
// every request it makes carries the API key.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (apt-get install chromium): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	require.NoError(t, chromedp.Run(ctx,
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Authorization": "Bearer " + heraldtest.APIKey}),
	))
	return ctx
}

// startRun registers a job and starts a run of it; it returns their ids.
func startRun(t *testing.T, h *heraldtest.Herald, job map[string]any) (jobID, runID string) {
	t.Helper()
	resp := h.Do(http.MethodPost, "/v1/jobs", job)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID string }
	resp.JSON(t, &j)
	resp = h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	var run struct{ ID string }
	resp.JSON(t, &run)
	return j.ID, run.ID
}

// A run followed on its page in a real browser: the job list links to the
// job, "Run now" starts a run and shows it, and the run's tasks change state
// on the page as they progress, without a reload, until the run succeeds.
func TestRunPageFollowsTheRunLive(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	release := make(chan struct{})
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/b" {
			<-release
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
	resp := h.Do(http.MethodPost, "/v1/jobs", map[string]any{
		"name": "gateway firmware",
		"tasks": []any{
			map[string]any{"id": "a", "request": map[string]any{"url": rc.URL + "/a"}},
			map[string]any{"id": "b", "depends_on": []string{"a"}, "request": map[string]any{"url": rc.URL + "/b"}},
		},
	})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID string }
	resp.JSON(t, &j)

	ctx := browser(t)
	var url string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(h.Server.URL+"/"),
		chromedp.WaitVisible(`[data-testid="job-`+j.ID+`"] a`),
		chromedp.Click(`[data-testid="job-`+j.ID+`"] a`),
		chromedp.WaitVisible(`[data-testid="topology"] [data-testid="node-b"]`),
		chromedp.Click(`[data-testid="trigger"]`),
		// The run's page, following it: b is running (held by the receiver).
		chromedp.WaitVisible(`[data-testid="task-b"][data-state="running"]`),
		// Its request shows on the timeline as it goes.
		chromedp.WaitVisible(`[data-testid="timeline-b"] .tl-bar[data-outcome="running"]`),
		chromedp.Location(&url),
		chromedp.Evaluate(`window.notReloaded = true`, nil),
	))
	require.Contains(t, url, "/runs/")
	require.NoError(t, chromedp.Run(ctx, chromedp.WaitVisible(`[data-testid="task-a"][data-state="succeeded"]`)))

	close(release)
	var notReloaded bool
	var bState, counts string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible(`[data-testid="run-state"][data-state="succeeded"]`),
		chromedp.Text(`[data-testid="task-counts"]`, &counts),
		chromedp.AttributeValue(`[data-testid="topology"] [data-testid="node-b"]`, "data-state", &bState, nil),
		chromedp.WaitVisible(`[data-testid="attempts-b"]`),
		chromedp.WaitVisible(`[data-testid="timeline-b"] .tl-bar[data-outcome="succeeded"]`),
		chromedp.Evaluate(`window.notReloaded === true`, &notReloaded),
	))
	require.True(t, notReloaded, "the page was reloaded instead of updated")
	require.Contains(t, counts, "2 tasks")
	require.Contains(t, counts, "succeeded 2")
	require.Equal(t, "succeeded", bState)

	// Pause from the job's page.
	jobURL := h.Server.URL + "/jobs/" + j.ID
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(jobURL),
		chromedp.Click(`[data-testid="pause"]`),
		chromedp.WaitVisible(`[data-testid="paused"]`),
		chromedp.WaitVisible(`[data-testid="resume"]`),
	))
	got := h.Do(http.MethodGet, "/v1/jobs/"+j.ID, nil)
	require.Contains(t, string(got.Body), `"paused":true`)
}

// Pages take the API key, a browser's way (HTTP Basic), and refuse a form
// posted from another site.
func TestPagesNeedTheKeyAndRefuseCrossSitePosts(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true})
	do := func(method, path string, header http.Header) *http.Response {
		req, err := http.NewRequest(method, h.Server.URL+path, strings.NewReader(""))
		require.NoError(t, err)
		for k, v := range header {
			req.Header[k] = v
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp
	}
	resp := do(http.MethodGet, "/jobs", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")

	basic := func(key string) http.Header {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth("operator", key)
		return req.Header
	}
	require.Equal(t, http.StatusUnauthorized, do(http.MethodGet, "/jobs", basic("wrong")).StatusCode)
	require.Equal(t, http.StatusOK, do(http.MethodGet, "/jobs", basic(heraldtest.APIKey)).StatusCode)
	require.Equal(t, http.StatusOK, do(http.MethodGet, "/static/htmx.min.js", nil).StatusCode, "assets are public")

	j := h.Do(http.MethodPost, "/v1/jobs", map[string]any{
		"name": "x", "tasks": []any{map[string]any{"request": map[string]any{"url": "https://device.example/hook"}}},
	})
	require.Equal(t, http.StatusCreated, j.Status)
	var job struct{ ID string }
	j.JSON(t, &job)
	cross := basic(heraldtest.APIKey)
	cross.Set("Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, do(http.MethodPost, "/jobs/"+job.ID+"/pause", cross).StatusCode)
	same := basic(heraldtest.APIKey)
	same.Set("Sec-Fetch-Site", "same-origin")
	resp = do(http.MethodPost, "/jobs/"+job.ID+"/pause", same)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/jobs/"+job.ID, resp.Header.Get("Location"))

	require.Equal(t, http.StatusNotFound, do(http.MethodGet, "/runs/"+job.ID, basic(heraldtest.APIKey)).StatusCode, "an unknown run")

	// A failed action's page links back to where the form was, on this site only.
	for referer, back := range map[string]string{
		h.Server.URL + "/jobs/" + job.ID: `href="/jobs/` + job.ID + `"`,
		"https://elsewhere.example/x":    `href="/x"`,
		"javascript:alert(1)":            `href="/jobs"`,
	} {
		req, err := http.NewRequest(http.MethodPost, h.Server.URL+"/runs/"+job.ID+"/cancel", nil)
		require.NoError(t, err)
		req.SetBasicAuth("operator", heraldtest.APIKey)
		req.Header.Set("Referer", referer)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Contains(t, string(body), back, "referer %s", referer)
	}
}

// The job list shows 100 jobs, newest first, and links to the older ones.
func TestJobListPages(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true})
	var ids []string
	for i := range 101 {
		resp := h.Do(http.MethodPost, "/v1/jobs", map[string]any{
			"name": fmt.Sprintf("job-%03d", i), "tasks": []any{map[string]any{"request": map[string]any{"url": "https://device.example/hook"}}},
		})
		require.Equal(t, http.StatusCreated, resp.Status)
		var j struct{ ID string }
		resp.JSON(t, &j)
		ids = append(ids, j.ID)
	}
	get := func(path string) string {
		body, _ := getAsBrowser(t, h, path)
		return body
	}
	first := get("/jobs")
	require.Contains(t, first, `data-testid="job-`+ids[100]+`"`, "the newest is on the first page")
	require.NotContains(t, first, `data-testid="job-`+ids[0]+`"`, "the oldest is not")
	i := strings.Index(first, `href="/jobs?cursor=`)
	require.Positive(t, i, "no link to older jobs")
	link := first[i+len(`href="`):]
	link = link[:strings.IndexByte(link, '"')]
	second := get(strings.ReplaceAll(link, "&amp;", "&"))
	require.Contains(t, second, `data-testid="job-`+ids[0]+`"`)
	require.NotContains(t, second, "older-jobs")

	// The filter form, as a browser submits it (empty fields included).
	filtered := get("/jobs?name=JOB-01&label=&paused=")
	require.Equal(t, 10, strings.Count(filtered, `data-testid="job-`), "job-010 … job-019")
	require.Contains(t, filtered, `data-testid="job-`+ids[19]+`"`)
	require.Contains(t, filtered, `value="JOB-01"`, "the form keeps what was asked")
}

// A big run's page counts every task, lists the first 200, and does not
// draw more than 300.
func TestBigRunPage(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{NoWork: true})
	tasks := make([]any, 310)
	for i := range tasks {
		tasks[i] = map[string]any{"id": fmt.Sprintf("t%03d", i), "request": map[string]any{"url": "https://device.example/hook"}}
	}
	_, runID := startRun(t, h, map[string]any{"name": "fleet", "tasks": tasks})

	html, _ := getAsBrowser(t, h, "/runs/"+runID)
	require.Contains(t, html, "310 tasks")
	require.Contains(t, html, `data-state="pending">pending 310`)
	require.Equal(t, 200, strings.Count(html, `data-testid="task-t`), "tasks listed")
	require.Contains(t, html, `data-testid="task-t199"`)
	require.NotContains(t, html, `data-testid="task-t200"`)
	require.Contains(t, html, "too many to draw")
	require.NotContains(t, html, `data-testid="topology"`)

	// The export it links to instead opens in a browser (Basic).
	require.Contains(t, html, `href="/runs/`+runID+`/graph?format=svg"`)
	_, contentType := getAsBrowser(t, h, "/runs/"+runID+"/graph?format=svg")
	require.Equal(t, "image/svg+xml", contentType)
}

// getAsBrowser gets a page with the key as a browser gives it (HTTP Basic);
// it must answer 200.
func getAsBrowser(t *testing.T, h *heraldtest.Herald, path string) (body, contentType string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.Server.URL+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth("operator", heraldtest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", path)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b), resp.Header.Get("Content-Type")
}
