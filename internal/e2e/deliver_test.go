package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

type job struct {
	ID         string     `json:"id"`
	Secret     string     `json:"secret"`
	NextFireAt *time.Time `json:"next_fire_at"`
}

type attempt struct {
	Attempt      int        `json:"attempt"`
	StartedAt    time.Time  `json:"started_at"`
	DurationMs   float64    `json:"duration_ms"`
	StatusCode   *int       `json:"status_code"`
	Outcome      string     `json:"outcome"`
	Error        *string    `json:"error"`
	ResponseBody *string    `json:"response_body"`
	Truncated    bool       `json:"response_truncated"`
	NextRetryAt  *time.Time `json:"next_retry_at"`
}

type run struct {
	ID           string    `json:"id"`
	State        string    `json:"state"`
	ScheduledFor time.Time `json:"scheduled_for"`
	Tasks        []struct {
		TaskID    string    `json:"task_id"`
		WebhookID string    `json:"webhook_id"`
		State     string    `json:"state"`
		Attempts  []attempt `json:"attempts"`
	} `json:"tasks"`
}

type testBundle struct {
	h *heraldtest.Herald
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{h: heraldtest.Start(t, heraldtest.Options{})}
}

// createJob registers a one-task job calling url; task adds fields to the task.
func (b *testBundle) createJob(t *testing.T, schedule map[string]any, url string, task map[string]any) job {
	t.Helper()
	tk := map[string]any{"request": map[string]any{"url": url, "body": map[string]any{"hello": "device"}}}
	for k, v := range task {
		tk[k] = v
	}
	body := map[string]any{"name": t.Name(), "tasks": []any{tk}}
	if schedule != nil {
		body["schedule"] = schedule
	}
	resp := b.h.Do(http.MethodPost, "/v1/jobs", body)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j job
	resp.JSON(t, &j)
	return j
}

// createJobWith registers a one-task job without schedule calling url, with
// job-level options merged in.
func (b *testBundle) createJobWith(t *testing.T, url string, options map[string]any) job {
	t.Helper()
	body := map[string]any{"name": t.Name(), "tasks": []any{map[string]any{"request": map[string]any{"url": url}}}}
	for k, v := range options {
		body[k] = v
	}
	resp := b.h.Do(http.MethodPost, "/v1/jobs", body)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j job
	resp.JSON(t, &j)
	return j
}

// finishedRun waits for the job's only run to end and returns it in full.
func (b *testBundle) finishedRun(t *testing.T, jobID string, within time.Duration) run {
	t.Helper()
	var r run
	heraldtest.Eventually(t, within, func() bool {
		resp := b.h.Do(http.MethodGet, "/v1/runs?job_id="+jobID, nil)
		var page struct{ Data []run }
		resp.JSON(t, &page)
		if len(page.Data) == 0 || page.Data[0].State == "running" {
			return false
		}
		b.h.Do(http.MethodGet, "/v1/runs/"+page.Data[0].ID, nil).JSON(t, &r)
		return true
	}, "run of job %s did not finish", jobID)
	return r
}

func TestDelayedJobArrivesOnceOnTimeSigned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)

	j := b.createJob(t, map[string]any{"delay": "1500ms"}, rc.URL+"/hook", nil)
	require.NotNil(t, j.NextFireAt)
	require.True(t, strings.HasPrefix(j.Secret, "whsec_"), "got secret %q", j.Secret)

	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Equal(t, 1, rc.Count(), "deliveries")
	// Nothing else can arrive later: no River job of herald's is left to
	// run (River completes the delivery's job in its own batch, just after
	// the run is recorded).
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		var open int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM river_job WHERE kind LIKE 'herald.%' AND state NOT IN ('completed', 'cancelled', 'discarded')").Scan(&open))
		return open == 0
	}, "unfinished River jobs")
	require.Equal(t, 1, rc.Count(), "deliveries")

	got := rc.Requests()[0]
	require.Equal(t, http.MethodPost, got.Method)
	require.Equal(t, "/hook", got.Path)
	require.JSONEq(t, `{"hello":"device"}`, string(got.Body))

	// On time: the fire time is the one promised at registration, and the
	// request arrives at it (bounded generously here; the benchmark measures).
	require.True(t, r.ScheduledFor.Equal(*j.NextFireAt), "got scheduled_for %v, want %v", r.ScheduledFor, j.NextFireAt)
	scheduledFor, err := time.Parse(time.RFC3339Nano, got.Header.Get("Herald-Scheduled-For"))
	require.NoError(t, err)
	require.True(t, scheduledFor.Equal(*j.NextFireAt), "got Herald-Scheduled-For %v, want %v", scheduledFor, j.NextFireAt)
	lateness := got.At.Sub(*j.NextFireAt)
	require.GreaterOrEqual(t, lateness, time.Duration(0), "arrived before its time")
	require.Less(t, lateness, time.Second, "arrived %v late", lateness)

	// Signed: the Standard Webhooks reference library verifies it.
	wh, err := standardwebhooks.NewWebhook(j.Secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(got.Body, got.Header))

	require.Equal(t, j.ID, got.Header.Get("Herald-Job"))
	require.Equal(t, r.ID, got.Header.Get("Herald-Run"))
	require.Equal(t, "main", got.Header.Get("Herald-Task"))
	require.Equal(t, "1", got.Header.Get("Herald-Attempt"))
	require.Equal(t, r.Tasks[0].WebhookID, got.Header.Get("Webhook-Id"))
	// W3C trace context even without tracing: the run's id as trace id.
	require.Regexp(t, `^00-`+strings.ReplaceAll(r.ID, "-", "")+`-[0-9a-f]{16}-00$`, got.Header.Get("Traceparent"))
}

func TestRetriesKeepWebhookIDAndBackOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(n int, _ *heraldtest.Request, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "boom %d", n)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	j := b.createJob(t, map[string]any{"delay": "0s"}, rc.URL, map[string]any{
		"retry": map[string]any{"max_attempts": 5, "initial_interval": "200ms", "max_interval": "10s"},
	})

	r := b.finishedRun(t, j.ID, 15*time.Second)
	require.Equal(t, "succeeded", r.State)
	reqs := rc.Requests()
	require.Len(t, reqs, 3)
	for i, req := range reqs {
		require.Equal(t, reqs[0].Header.Get("Webhook-Id"), req.Header.Get("Webhook-Id"), "attempt %d", i+1)
		require.Equal(t, fmt.Sprint(i+1), req.Header.Get("Herald-Attempt"))
	}
	// Delays grow: herald schedules the retry after attempt 1 in [100ms, 200ms]
	// and after attempt 2 in [200ms, 400ms] (equal jitter), and the receiver
	// sees the retries no earlier than scheduled.
	atts := r.Tasks[0].Attempts
	require.Len(t, atts, 3)
	var scheduled []time.Duration
	for i, window := range [][2]time.Duration{{100 * time.Millisecond, 200 * time.Millisecond}, {200 * time.Millisecond, 400 * time.Millisecond}} {
		ended := atts[i].StartedAt.Add(time.Duration(atts[i].DurationMs * float64(time.Millisecond)))
		d := atts[i].NextRetryAt.Sub(ended)
		require.True(t, d >= window[0]-time.Millisecond && d <= window[1]+50*time.Millisecond, "retry %d scheduled after %v, want within %v", i+1, d, window)
		require.GreaterOrEqual(t, reqs[i+1].At.Sub(reqs[i].At), d, "retry %d arrived before its time", i+1)
		scheduled = append(scheduled, d)
	}
	require.GreaterOrEqual(t, scheduled[1], scheduled[0], "got delays %v, want growing", scheduled)

	// Every attempt is visible through the API.
	for i, want := range []struct {
		status  int
		outcome string
	}{{500, "retrying"}, {500, "retrying"}, {200, "succeeded"}} {
		require.Equal(t, i+1, atts[i].Attempt)
		require.Equal(t, want.status, *atts[i].StatusCode)
		require.Equal(t, want.outcome, atts[i].Outcome)
	}
	require.Equal(t, "boom 1", *atts[0].ResponseBody)
	require.NotNil(t, atts[0].NextRetryAt)
	require.Nil(t, atts[2].NextRetryAt)
}

func TestClientErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
	})
	j := b.createJob(t, nil, rc.URL, nil)
	resp := b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)

	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "failed", r.State)
	require.Equal(t, "failed", r.Tasks[0].State)
	require.Len(t, r.Tasks[0].Attempts, 1)
	require.Equal(t, 400, *r.Tasks[0].Attempts[0].StatusCode)
	require.Equal(t, "failed", r.Tasks[0].Attempts[0].Outcome)
	require.Equal(t, 1, rc.Count())
}

func TestRunOutOfAttemptsFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	j := b.createJob(t, map[string]any{"delay": "0s"}, rc.URL, map[string]any{
		"retry": map[string]any{"max_attempts": 3, "initial_interval": "10ms"},
	})
	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "failed", r.State)
	require.Len(t, r.Tasks[0].Attempts, 3)
	require.Equal(t, "failed", r.Tasks[0].Attempts[2].Outcome)
	require.Equal(t, 3, rc.Count())

	// The failed run is listed for replay.
	var page struct{ Data []run }
	b.h.Do(http.MethodGet, "/v1/runs?state=failed&job_id="+j.ID, nil).JSON(t, &page)
	require.Len(t, page.Data, 1)
}

func TestHangingReceiverTimesOutAndIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release := make(chan struct{})
	rc := heraldtest.NewReceiver(t, func(n int, _ *heraldtest.Request, w http.ResponseWriter) {
		if n == 1 {
			<-release // hang until the test ends
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	t.Cleanup(func() { close(release) }) // before the receiver's Close, which waits for handlers
	j := b.createJob(t, map[string]any{"delay": "0s"}, rc.URL, map[string]any{
		"request": map[string]any{"url": rc.URL, "timeout": "300ms"},
		"retry":   map[string]any{"initial_interval": "10ms"},
	})
	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "succeeded", r.State)
	atts := r.Tasks[0].Attempts
	require.Len(t, atts, 2)
	require.Nil(t, atts[0].StatusCode)
	require.Equal(t, "retrying", atts[0].Outcome)
	require.NotNil(t, atts[0].Error)
	require.Contains(t, strings.ToLower(*atts[0].Error), "timeout")
	require.Equal(t, 204, *atts[1].StatusCode)
	reqs := rc.Requests()
	require.GreaterOrEqual(t, reqs[1].At.Sub(reqs[0].At), 300*time.Millisecond)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(n int, _ *heraldtest.Request, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	j := b.createJob(t, map[string]any{"delay": "0s"}, rc.URL, map[string]any{
		"retry": map[string]any{"initial_interval": "10ms"},
	})
	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "succeeded", r.State)
	reqs := rc.Requests()
	require.Len(t, reqs, 2)
	gap := reqs[1].At.Sub(reqs[0].At)
	require.GreaterOrEqual(t, gap, 2*time.Second, "got retry after %v, want at least the 2s of Retry-After", gap)
	require.Equal(t, 429, *r.Tasks[0].Attempts[0].StatusCode)
}

func TestResponseCaptureIsCapped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	big := strings.Repeat("x", 10_000)
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, big)
	})
	j := b.createJob(t, map[string]any{"delay": "0s"}, rc.URL, nil)
	r := b.finishedRun(t, j.ID, 30*time.Second)
	at := r.Tasks[0].Attempts[0]
	require.Len(t, *at.ResponseBody, 4096)
	require.True(t, at.Truncated)
}

func TestStringBodyIsSentAsText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	j := b.createJob(t, map[string]any{"delay": "0s"}, rc.URL, map[string]any{
		"request": map[string]any{"url": rc.URL, "method": "PUT", "body": "reboot now", "headers": map[string]any{"X-Site": "17"}},
	})
	b.finishedRun(t, j.ID, 30*time.Second)
	got := rc.Requests()[0]
	require.Equal(t, http.MethodPut, got.Method)
	require.Equal(t, "reboot now", string(got.Body))
	require.Equal(t, "text/plain; charset=utf-8", got.Header.Get("Content-Type"))
	require.Equal(t, "17", got.Header.Get("X-Site"))
	var v any
	require.Error(t, json.Unmarshal(got.Body, &v))
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	j := b.createJob(t, map[string]any{"delay": "200ms"}, rc.URL, nil)
	b.finishedRun(t, j.ID, 30*time.Second)
	resp := b.h.DoWithHeader(http.MethodGet, "/metrics", nil, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	body := string(resp.Body)
	for _, want := range []string{
		`herald_deliveries_total{outcome="succeeded"} 1`,
		`herald_runs_total{state="succeeded"} 1`,
		`herald_fire_lateness_seconds_count 1`,
		`herald_delivery_duration_seconds_count{outcome="succeeded"} 1`,
		`herald_deliveries_in_flight 0`,
		`herald_tasks_waiting_upstream 0`,
		`herald_active_schedules 0`,
		`herald_overdue_ticks 0`,
	} {
		require.Contains(t, body, want)
	}
}

// A delivery's River job that runs again after its outcome was recorded (a
// process killed between herald's commit and River's completion of the job,
// then rescued) finds its task run finished and sends nothing.
func TestDeliveryRunAgainAfterRecordSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	j := b.createJob(t, nil, rc.URL+"/hook", nil)
	require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)
	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Equal(t, 1, rc.Count())

	ctx := context.Background()
	var taskRunID uuid.UUID
	require.NoError(t, b.h.Pool.QueryRow(ctx, "SELECT id FROM task_runs WHERE run_id = $1", r.ID).Scan(&taskRunID))
	again, err := b.h.River.Insert(ctx, jobs.DeliverArgs{TaskRunID: taskRunID, JobID: uuid.MustParse(j.ID), Solo: true}, nil)
	require.NoError(t, err)
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		var state string
		require.NoError(t, b.h.Pool.QueryRow(ctx, "SELECT state FROM river_job WHERE id = $1", again.Job.ID).Scan(&state))
		return state == "completed"
	}, "the job run again did not complete")
	require.Equal(t, 1, rc.Count(), "deliveries")
	attempts, err := store.New(b.h.Pool).ListAttemptsOf(ctx, []uuid.UUID{taskRunID}) // rows and the success kept in the task run
	require.NoError(t, err)
	require.Len(t, attempts, 1)
}
