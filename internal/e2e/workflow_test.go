package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/jobs"
)

// createWorkflow registers a job of tasks with job-level options merged in.
func createWorkflow(t *testing.T, h *heraldtest.Herald, tasks []any, options map[string]any) job {
	t.Helper()
	body := map[string]any{"name": t.Name(), "tasks": tasks}
	for k, v := range options {
		body[k] = v
	}
	resp := h.Do(http.MethodPost, "/v1/jobs", body)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j job
	resp.JSON(t, &j)
	return j
}

// trigger starts a run of job id with body (nil: no body) and returns its id.
func trigger(t *testing.T, h *heraldtest.Herald, id string, body any) string {
	t.Helper()
	resp := h.Do(http.MethodPost, "/v1/jobs/"+id+"/runs", body)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	var r struct{ ID string }
	resp.JSON(t, &r)
	return r.ID
}

// The run's input reaches a task's URL, headers and body; a reference to
// input in a run without one fails the task naming the reference.
func TestRunInputReachesTheTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	j := createWorkflow(t, b.h, []any{map[string]any{
		"request": map[string]any{
			"url":     rc.URL + "/sites/{{ input.site }}",
			"headers": map[string]any{"X-Region": "{{ input.region }}"},
			"body":    map[string]any{"devices": "{{ input.devices }}", "first": "{{ input.devices.0 }}", "note": "for {{ input.region }}"},
		},
		"retry": map[string]any{"max_attempts": 1},
	}}, nil)

	runID := trigger(t, b.h, j.ID, map[string]any{"input": map[string]any{"site": "17", "region": "eu-1", "devices": []string{"gw-1", "gw-2"}}})
	r := waitRun(t, b.h, runID, 10*time.Second)
	require.Equal(t, "succeeded", r.State)
	got := rc.Requests()
	require.Len(t, got, 1)
	require.Equal(t, "/sites/17", got[0].Path)
	require.Equal(t, "eu-1", got[0].Header.Get("X-Region"))
	require.JSONEq(t, `{"devices":["gw-1","gw-2"],"first":"gw-1","note":"for eu-1"}`, string(got[0].Body))

	bare := waitRun(t, b.h, trigger(t, b.h, j.ID, nil), 10*time.Second)
	require.Equal(t, "failed", bare.State)
	require.NotNil(t, bare.Tasks[0].LastError)
	require.Contains(t, *bare.Tasks[0].LastError, "{{ input.site }}: the run has no input")
	require.Equal(t, 1, rc.Count(), "a task whose input was missing was sent")
}

// A signed call to a job's inbound hook starts exactly one run, however
// often it is replayed, with its body as the run's input; a forged call
// starts none.
func TestInboundCallStartsExactlyOneRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	resp := b.h.Do(http.MethodPost, "/v1/jobs", map[string]any{
		"name": t.Name(), "inbound": map[string]any{"enabled": true},
		"tasks": []any{map[string]any{"request": map[string]any{"url": rc.URL + "/door", "body": map[string]any{"device": "{{ input.device }}"}}}},
	})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct {
		ID            string `json:"id"`
		InboundSecret string `json:"inbound_secret"`
	}
	resp.JSON(t, &j)

	call := func(secret, msgID string, body []byte) *heraldtest.Response {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		now := time.Now()
		sig, err := wh.Sign(msgID, now, body)
		require.NoError(t, err)
		return b.h.DoWithHeader(http.MethodPost, "/v1/hooks/"+j.ID, body, http.Header{
			"Webhook-Id": {msgID}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Webhook-Signature": {sig},
		})
	}
	body := []byte(`{"device": "gw-17", "event": "door_opened"}`)
	first := call(j.InboundSecret, "msg_door_1", body)
	require.Equal(t, http.StatusAccepted, first.Status, "body: %s", first.Body)
	for range 3 {
		require.Equal(t, http.StatusAccepted, call(j.InboundSecret, "msg_door_1", body).Status)
	}
	forged := call("whsec_"+strings.Repeat("Zm9yZ2Vk", 4), "msg_door_2", body)
	require.Equal(t, http.StatusUnauthorized, forged.Status, "body: %s", forged.Body)

	var r struct{ ID string }
	first.JSON(t, &r)
	require.Equal(t, "succeeded", waitRun(t, b.h, r.ID, 10*time.Second).State)
	var runs struct {
		Data []struct {
			ID      string `json:"id"`
			Trigger string `json:"trigger"`
		} `json:"data"`
	}
	b.h.Do(http.MethodGet, "/v1/runs?job_id="+j.ID, nil).JSON(t, &runs)
	require.Len(t, runs.Data, 1, "got %v runs, want 1", len(runs.Data))
	require.Equal(t, "inbound", runs.Data[0].Trigger)
	require.Equal(t, 1, rc.Count())
	require.JSONEq(t, `{"device":"gw-17"}`, string(rc.Requests()[0].Body))
}

// A hung task is ended by its run's timeout, on the other replica: the run
// ends timed_out, the waiting child is never sent, and the hung request's
// late answer is recorded but changes nothing.
func TestRunTimeoutEndsAHungRunOnTheSecondReplica(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	// The first replica delivers but never sweeps (its first sweep is an
	// hour away); the second sweeps.
	first := heraldtest.StartOn(t, pool, heraldtest.Options{Jobs: func(c *jobs.Config) { c.TimeoutPollInterval = time.Hour }})
	second := heraldtest.StartOn(t, pool, heraldtest.Options{})
	release := make(chan struct{})
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/hang" {
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
	hang := task(rc.URL, "hang")
	hang["request"].(map[string]any)["timeout"] = "1m"
	j := createWorkflow(t, first, []any{hang, task(rc.URL, "after", "hang")}, map[string]any{"run_timeout": "1s"})
	runID := trigger(t, first, j.ID, nil)
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() == 1 }, "the hung task was not sent")

	r := waitRun(t, second, runID, 15*time.Second)
	require.Equal(t, "timed_out", r.State)
	require.Equal(t, map[string]string{"hang": "cancelled", "after": "cancelled"}, r.states())
	var deadline, finished time.Time
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT deadline, finished_at FROM runs WHERE id = $1`, runID).Scan(&deadline, &finished))
	require.False(t, finished.Before(deadline), "got finished %v before the deadline %v", finished, deadline)

	close(release)
	heraldtest.Eventually(t, 15*time.Second, func() bool {
		var n int
		require.NoError(t, pool.QueryRow(context.Background(),
			`SELECT count(*) FROM attempts a JOIN task_runs t ON t.id = a.task_run_id WHERE t.run_id = $1 AND a.outcome = 'succeeded'`, runID).Scan(&n))
		return n == 1
	}, "the late answer was not recorded")
	again := waitRun(t, first, runID, time.Second)
	require.Equal(t, "timed_out", again.State, "the late answer changed the run")
	require.Equal(t, "cancelled", again.states()["hang"])
	require.Len(t, byPath(rc)["/after"], 0, "a task of the timed-out run was sent")
}

// A failing task triggers its failure handler (run_if any_failed), not its
// all_succeeded sibling; with failure_handled the run then succeeds.
func TestFailingTaskTriggersItsFailureHandler(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/deploy" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	handler := task(rc.URL, "rollback", "deploy")
	handler["run_if"] = "any_failed"
	always := task(rc.URL, "report", "deploy")
	always["run_if"] = "all_done"
	tasks := []any{task(rc.URL, "deploy"), task(rc.URL, "notify", "deploy"), handler, always}

	for _, tc := range []struct {
		name    string
		options map[string]any
		want    string
	}{
		{"failed by default", nil, "failed"},
		{"succeeded when failures are handled", map[string]any{"failure_handled": true}, "succeeded"},
	} {
		before := len(byPath(rc)["/rollback"])
		j := createWorkflow(t, b.h, tasks, tc.options)
		r := waitRun(t, b.h, trigger(t, b.h, j.ID, nil), 15*time.Second)
		require.Equal(t, tc.want, r.State, "%s: got %v, want %v", tc.name, r.State, tc.want)
		want := map[string]string{"deploy": "failed", "notify": "upstream_failed", "rollback": "succeeded", "report": "succeeded"}
		require.Equal(t, want, r.states(), "%s", tc.name)
		require.Len(t, byPath(rc)["/rollback"], before+1, "%s: the handler was not called once", tc.name)
	}
	require.Empty(t, byPath(rc)["/notify"], "the all_succeeded sibling was called")
}

// A condition that is false skips its task without a request, and the
// task's child still runs; a condition that fails at run time fails its
// task, naming the expression.
func TestWhenFalseSkipsATaskAndItsChildRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/check" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"update_available": false, "version": 7}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	update := task(rc.URL, "update", "check")
	update["when"] = `tasks.check.status == 200 && tasks.check.body.update_available && input.force != true`
	j := createWorkflow(t, b.h, []any{task(rc.URL, "check"), update, task(rc.URL, "audit", "update")}, nil)
	r := waitRun(t, b.h, trigger(t, b.h, j.ID, map[string]any{"input": map[string]any{"force": false}}), 15*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Equal(t, map[string]string{"check": "succeeded", "update": "skipped", "audit": "succeeded"}, r.states())
	got := byPath(rc)
	require.Empty(t, got["/update"], "a skipped task was sent")
	require.Len(t, got["/audit"], 1)

	broken := task(rc.URL, "update", "check")
	broken["when"] = `tasks.check.body.missing > 1`
	j = createWorkflow(t, b.h, []any{task(rc.URL, "check"), broken}, nil)
	r = waitRun(t, b.h, trigger(t, b.h, j.ID, nil), 15*time.Second)
	require.Equal(t, "failed", r.State)
	for _, tk := range r.Tasks {
		if tk.TaskID == "update" {
			require.Equal(t, "failed", tk.State)
			require.NotNil(t, tk.LastError)
			require.Contains(t, *tk.LastError, `condition "tasks.check.body.missing > 1" failed: no such key: missing`)
		}
	}
	require.Empty(t, byPath(rc)["/update"])
}

// When a run ends, its job's on_run_end is called once (with retries after
// a 503, under one webhook-id), signed with the job's secret, with the run's
// outcome; the callback's attempts are shown on the run.
func TestRunEndCallbackArrivesOnceWithTheOutcome(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/b" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	cb := heraldtest.NewReceiver(t, func(n int, _ *heraldtest.Request, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable) // retried
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	j := createWorkflow(t, b.h, []any{task(rc.URL, "a"), task(rc.URL, "b", "a")},
		map[string]any{"on_run_end": map[string]any{"url": cb.URL + "/ended", "headers": map[string]any{"X-Team": "edge"}}})
	runID := trigger(t, b.h, j.ID, nil)
	require.Equal(t, "failed", waitRun(t, b.h, runID, 15*time.Second).State)

	var shown struct {
		Callback struct {
			State     string `json:"state"`
			WebhookID string `json:"webhook_id"`
			Attempts  []struct {
				StatusCode *int   `json:"status_code"`
				Outcome    string `json:"outcome"`
			} `json:"attempts"`
		} `json:"callback"`
	}
	heraldtest.Eventually(t, 20*time.Second, func() bool {
		b.h.Do(http.MethodGet, "/v1/runs/"+runID, nil).JSON(t, &shown)
		return shown.Callback.State == "succeeded"
	}, "the callback did not succeed")
	require.Len(t, shown.Callback.Attempts, 2)
	require.Equal(t, "retrying", shown.Callback.Attempts[0].Outcome)
	require.Equal(t, "succeeded", shown.Callback.Attempts[1].Outcome)

	got := cb.Requests()
	require.Len(t, got, 2, "got %d callback requests, want 2", len(got))
	require.Equal(t, got[0].Header.Get("Webhook-Id"), got[1].Header.Get("Webhook-Id"), "a retry changed the webhook-id")
	require.Equal(t, shown.Callback.WebhookID, got[1].Header.Get("Webhook-Id"))
	require.True(t, strings.HasPrefix(shown.Callback.WebhookID, "msg_end_"))
	require.Equal(t, "edge", got[1].Header.Get("X-Team"))
	require.Equal(t, "run.ended", got[1].Header.Get("Herald-Event"))
	wh, err := standardwebhooks.NewWebhook(j.Secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(got[1].Body, got[1].Header), "the callback's signature does not verify with the job's secret")

	var ended jobs.RunEnded
	require.NoError(t, json.Unmarshal(got[1].Body, &ended))
	require.Equal(t, "run.ended", ended.Type)
	require.Equal(t, runID, ended.RunID.String())
	require.Equal(t, j.ID, ended.JobID.String())
	require.Equal(t, "failed", string(ended.State))
	require.Len(t, ended.Tasks, 2)
	outcomes := map[string]string{}
	for _, tk := range ended.Tasks {
		outcomes[tk.TaskID] = string(tk.State)
		if tk.TaskID == "b" {
			require.NotNil(t, tk.StatusCode)
			require.Equal(t, int32(422), *tk.StatusCode)
		}
	}
	require.Equal(t, map[string]string{"a": "succeeded", "b": "failed"}, outcomes)

	// Nothing more arrives: no callback job of the run is left.
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		var open int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM river_job WHERE kind = 'herald.run_end' AND state NOT IN ('completed', 'cancelled', 'discarded')").Scan(&open))
		return open == 0
	}, "unfinished callback jobs")
	require.Len(t, cb.Requests(), 2)
}
