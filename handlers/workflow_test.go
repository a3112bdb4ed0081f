package handlers_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/handlers"
	"github.com/herald-sched/herald/internal/heraldtest"
)

// dag is a job of tasks a and b (b after a) with job-level members added
// and b's object extended.
func dag(job map[string]any, b map[string]any) map[string]any {
	j := validJob()
	tb := map[string]any{"id": "b", "depends_on": []string{"a"}, "request": map[string]any{"url": "https://gw.example/b"}}
	for k, v := range b {
		tb[k] = v
	}
	j["tasks"] = []any{map[string]any{"id": "a", "request": map[string]any{"url": "https://gw.example/a"}}, tb}
	for k, v := range job {
		j[k] = v
	}
	return j
}

// Workflow options refused at registration: a problem naming the field and,
// for a condition, the task and CEL's error; nothing written.
func TestWorkflowBadInputIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name        string
		body        any
		wantCode    int
		wantField   string
		wantMessage string
	}{
		{name: "run_if outside the enum", body: dag(nil, map[string]any{"run_if": "sometimes"}), wantCode: 422, wantField: "tasks[1].run_if"},
		{name: "run_if on a task without parents", body: with("tasks.0.run_if", "any_failed"), wantCode: 422, wantField: "tasks[0].run_if"},
		{name: "when that does not compile", body: dag(nil, map[string]any{"when": "tasks.a.status =="}), wantCode: 422,
			wantField: "tasks[1].when", wantMessage: `task "b": ERROR: <input>:1:18: Syntax error`},
		{name: "when that is not boolean", body: dag(nil, map[string]any{"when": "tasks.a.status + 1"}), wantCode: 422,
			wantField: "tasks[1].when", wantMessage: `task "b": must be boolean, is int`},
		{name: "when over a task not upstream", body: dag(nil, map[string]any{"depends_on": []string{}, "when": "tasks.a.status == 200"}), wantCode: 422,
			wantField: "tasks[1].when", wantMessage: `uses task "a", which is not upstream`},
		{name: "run_timeout below 1s", body: dag(map[string]any{"run_timeout": "500ms"}, nil), wantCode: 422, wantField: "run_timeout"},
		{name: "run_timeout above 7 days", body: dag(map[string]any{"run_timeout": "200h"}, nil), wantCode: 422, wantField: "run_timeout"},
		{name: "run_timeout not a duration", body: dag(map[string]any{"run_timeout": "soon"}, nil), wantCode: 400, wantField: "run_timeout"},
		{name: "on_run_end to a private address", body: dag(map[string]any{"on_run_end": map[string]any{"url": "http://10.0.0.1/end"}}, nil), wantCode: 422, wantField: "on_run_end.url"},
		{name: "on_run_end with a reserved header", body: dag(map[string]any{"on_run_end": map[string]any{"url": "https://hooks.example/end", "headers": map[string]any{"Herald-Run": "x"}}}, nil), wantCode: 422, wantField: "on_run_end.headers.Herald-Run"},
		{name: "input reference with bad syntax", body: dag(nil, map[string]any{"request": map[string]any{"url": "https://gw.example/{{ input. }}"}}), wantCode: 422, wantField: "tasks[1].request.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.rowCounts(t)
			resp := b.h.Do(http.MethodPost, "/v1/jobs", tt.body)
			require.Equal(t, tt.wantCode, resp.Status, "body: %s", resp.Body)
			var p problem
			resp.JSON(t, &p)
			require.NotEmpty(t, p.Errors, "problem names no field: %s", resp.Body)
			require.Equal(t, tt.wantField, p.Errors[0].Field, "got %v, want %v", p.Errors[0].Field, tt.wantField)
			require.Contains(t, p.Errors[0].Message, tt.wantMessage)
			require.Equal(t, before, b.rowCounts(t), "a refused request wrote to the database")
		})
	}
}

type runResp struct {
	ID       string          `json:"id"`
	State    string          `json:"state"`
	Trigger  string          `json:"trigger"`
	Input    json.RawMessage `json:"input"`
	Deadline *time.Time      `json:"deadline"`
	Callback *struct {
		State     *string `json:"state"`
		WebhookID string  `json:"webhook_id"`
	} `json:"callback"`
}

// A trigger's input is stored with the run and shown; over 64 KiB it is
// 413 naming the field, and nothing is written.
func TestTriggerInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	create := b.h.Do(http.MethodPost, "/v1/jobs", dag(map[string]any{"run_timeout": "10m", "on_run_end": map[string]any{"url": "https://hooks.example/end"}}, nil))
	require.Equal(t, http.StatusCreated, create.Status, "body: %s", create.Body)
	var job struct {
		ID         string `json:"id"`
		RunTimeout string `json:"run_timeout"`
	}
	create.JSON(t, &job)
	require.Equal(t, "10m0s", job.RunTimeout)

	resp := b.h.Do(http.MethodPost, "/v1/jobs/"+job.ID+"/runs", map[string]any{"input": map[string]any{"region": "eu-1", "ids": []int{1, 2}}})
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	var run runResp
	resp.JSON(t, &run)
	require.JSONEq(t, `{"region":"eu-1","ids":[1,2]}`, string(run.Input))
	require.NotNil(t, run.Deadline)
	require.NotNil(t, run.Callback)
	require.Nil(t, run.Callback.State, "the run has not ended")

	got := b.h.Do(http.MethodGet, "/v1/runs/"+run.ID, nil)
	require.Equal(t, http.StatusOK, got.Status)
	var shown runResp
	got.JSON(t, &shown)
	require.JSONEq(t, `{"region":"eu-1","ids":[1,2]}`, string(shown.Input))

	noInput := b.h.Do(http.MethodPost, "/v1/jobs/"+job.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, noInput.Status, "body: %s", noInput.Body)
	var bare runResp
	noInput.JSON(t, &bare)
	require.Empty(t, bare.Input)

	for _, tc := range []struct {
		name      string
		body      any
		wantCode  int
		wantField string
	}{
		{"input over 64 KiB", map[string]any{"input": strings.Repeat("x", handlers.MaxInputBytes)}, 413, "input"},
		{"unknown member", map[string]any{"inputs": 1}, 400, "inputs"},
		{"NUL in the input", `{"input": {"a": "\u0000"}}`, 422, "input.a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.rowCounts(t)
			resp := b.h.Do(http.MethodPost, "/v1/jobs/"+job.ID+"/runs", tc.body)
			require.Equal(t, tc.wantCode, resp.Status, "body: %s", resp.Body)
			var p problem
			resp.JSON(t, &p)
			require.NotEmpty(t, p.Errors, "problem names no field: %s", resp.Body)
			require.Equal(t, tc.wantField, p.Errors[0].Field)
			require.Equal(t, before, b.rowCounts(t), "a refused trigger wrote to the database")
		})
	}
}

// signed returns the Standard Webhooks headers of body signed with secret.
func signed(t *testing.T, secret, msgID string, at time.Time, body []byte) http.Header {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	sig, err := wh.Sign(msgID, at, body)
	require.NoError(t, err)
	return http.Header{
		"Webhook-Id":        {msgID},
		"Webhook-Timestamp": {itoa(at.Unix())},
		"Webhook-Signature": {sig},
		"Content-Type":      {"application/json"},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// An inbound hook starts one run per signed call, with the body as input;
// replays, forgeries, unknown hooks and paused jobs start none.
func TestInboundHook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	create := b.h.Do(http.MethodPost, "/v1/jobs", with("inbound", map[string]any{"enabled": true}))
	require.Equal(t, http.StatusCreated, create.Status, "body: %s", create.Body)
	var job struct {
		ID            string `json:"id"`
		InboundSecret string `json:"inbound_secret"`
		Inbound       *struct {
			Enabled bool `json:"enabled"`
		} `json:"inbound"`
	}
	create.JSON(t, &job)
	require.True(t, strings.HasPrefix(job.InboundSecret, "whsec_"), "got %q, want a whsec_ secret", job.InboundSecret)
	require.True(t, job.Inbound.Enabled)
	read := b.h.Do(http.MethodGet, "/v1/jobs/"+job.ID, nil)
	require.NotContains(t, string(read.Body), job.InboundSecret, "a read shows the inbound secret")

	hook := "/v1/hooks/" + job.ID
	body := []byte(`{"device": "gw-17", "event": "door_opened"}`)
	first := b.h.DoWithHeader(http.MethodPost, hook, body, signed(t, job.InboundSecret, "msg_1", time.Now(), body))
	require.Equal(t, http.StatusAccepted, first.Status, "body: %s", first.Body)
	var run runResp
	first.JSON(t, &run)
	require.Equal(t, "inbound", run.Trigger)
	require.JSONEq(t, string(body), string(run.Input))

	again := b.h.DoWithHeader(http.MethodPost, hook, body, signed(t, job.InboundSecret, "msg_1", time.Now(), body))
	require.Equal(t, http.StatusAccepted, again.Status, "body: %s", again.Body)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	var replayed runResp
	again.JSON(t, &replayed)
	require.Equal(t, run.ID, replayed.ID, "a replay started another run")

	plain := validJob()
	other := b.h.Do(http.MethodPost, "/v1/jobs", plain)
	require.Equal(t, http.StatusCreated, other.Status)
	var otherJob struct {
		ID string `json:"id"`
	}
	other.JSON(t, &otherJob)

	for _, tc := range []struct {
		name     string
		path     string
		header   http.Header
		body     []byte
		wantCode int
	}{
		{"forged signature", hook, signed(t, "whsec_"+strings.Repeat("A", 32), "msg_2", time.Now(), body), body, 401},
		{"no signature", hook, http.Header{"Content-Type": {"application/json"}}, body, 401},
		{"body changed after signing", hook, signed(t, job.InboundSecret, "msg_3", time.Now(), body), []byte(`{"device": "gw-18"}`), 401},
		{"timestamp past the tolerance", hook, signed(t, job.InboundSecret, "msg_4", time.Now().Add(-6*time.Minute), body), body, 401},
		{"a job without a hook", "/v1/hooks/" + otherJob.ID, signed(t, job.InboundSecret, "msg_5", time.Now(), body), body, 404},
		{"an unknown job", "/v1/hooks/0b7e2a52-9d3c-4d35-9a5e-1f6f1f0c0c0c", signed(t, job.InboundSecret, "msg_6", time.Now(), body), body, 404},
		{"a body that is not JSON", hook, signed(t, job.InboundSecret, "msg_7", time.Now(), []byte("a=1")), []byte("a=1"), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.rowCounts(t)
			resp := b.h.DoWithHeader(http.MethodPost, tc.path, tc.body, tc.header)
			require.Equal(t, tc.wantCode, resp.Status, "body: %s", resp.Body)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			require.Equal(t, before, b.rowCounts(t), "a refused call wrote to the database")
		})
	}

	t.Run("a paused job", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.h.Do(http.MethodPost, "/v1/jobs/"+job.ID+"/pause", nil).Status)
		before := b.rowCounts(t)
		resp := b.h.DoWithHeader(http.MethodPost, hook, body, signed(t, job.InboundSecret, "msg_8", time.Now(), body))
		require.Equal(t, http.StatusConflict, resp.Status, "body: %s", resp.Body)
		require.Equal(t, before, b.rowCounts(t))
		require.Equal(t, http.StatusOK, b.h.Do(http.MethodPost, "/v1/jobs/"+job.ID+"/resume", nil).Status)
	})

	t.Run("rotation: both secrets verify for a while", func(t *testing.T) {
		rot := b.h.Do(http.MethodPost, "/v1/jobs/"+job.ID+"/rotate-inbound-secret", nil)
		require.Equal(t, http.StatusOK, rot.Status, "body: %s", rot.Body)
		var rotated struct {
			InboundSecret string     `json:"inbound_secret"`
			Expires       *time.Time `json:"inbound_previous_secret_expires_at"`
		}
		rot.JSON(t, &rotated)
		require.NotEqual(t, job.InboundSecret, rotated.InboundSecret)
		require.NotNil(t, rotated.Expires)
		for i, secret := range []string{rotated.InboundSecret, job.InboundSecret} {
			id := "msg_rot_" + itoa(int64(i))
			resp := b.h.DoWithHeader(http.MethodPost, hook, body, signed(t, secret, id, time.Now(), body))
			require.Equal(t, http.StatusAccepted, resp.Status, "secret %d: %s", i, resp.Body)
		}
		none := b.h.Do(http.MethodPost, "/v1/jobs/"+otherJob.ID+"/rotate-inbound-secret", nil)
		require.Equal(t, http.StatusNotFound, none.Status, "a job without a hook got an inbound secret")
	})
}

// Calls over a job's rate limit are refused with 429 and Retry-After, and
// write nothing.
func TestInboundHookRateLimit(t *testing.T) {
	t.Parallel()
	b := &testBundle{h: heraldtest.Start(t, heraldtest.Options{NoWork: true, Wrap: heraldtest.ValidateOpenAPI(t),
		API: func(c *handlers.APIConfig) { c.InboundRate, c.InboundBurst = 0.01, 2 }})}
	create := b.h.Do(http.MethodPost, "/v1/jobs", with("inbound", map[string]any{"enabled": true}))
	require.Equal(t, http.StatusCreated, create.Status, "body: %s", create.Body)
	var job struct {
		ID            string `json:"id"`
		InboundSecret string `json:"inbound_secret"`
	}
	create.JSON(t, &job)
	for i := range 2 {
		resp := b.h.DoWithHeader(http.MethodPost, "/v1/hooks/"+job.ID, nil, signed(t, job.InboundSecret, "msg_"+itoa(int64(i)), time.Now(), nil))
		require.Equal(t, http.StatusAccepted, resp.Status, "call %d: %s", i, resp.Body)
	}
	before := b.rowCounts(t)
	resp := b.h.DoWithHeader(http.MethodPost, "/v1/hooks/"+job.ID, nil, signed(t, job.InboundSecret, "msg_x", time.Now(), nil))
	require.Equal(t, http.StatusTooManyRequests, resp.Status, "body: %s", resp.Body)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, before, b.rowCounts(t))
}

// Failure branches are drawn apart in every export: JSON names the run_if of
// the edge's child, DOT draws it dashed and red (all_done dotted), the SVG
// gives it its own class; conditions are shown on their tasks.
func TestGraphExportShowsBranches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j := validJob()
	delete(j, "schedule")
	j["tasks"] = []any{
		map[string]any{"id": "a", "request": map[string]any{"url": "https://gw.example/a"}},
		map[string]any{"id": "h", "depends_on": []string{"a"}, "run_if": "any_failed", "request": map[string]any{"url": "https://gw.example/h"}},
		map[string]any{"id": "r", "depends_on": []string{"a"}, "run_if": "all_done", "when": "tasks.a.status == 200", "request": map[string]any{"url": "https://gw.example/r"}},
	}
	resp := b.h.Do(http.MethodPost, "/v1/jobs", j)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var created jobResp
	resp.JSON(t, &created)
	path := "/v1/jobs/" + created.ID + "/graph"

	resp = b.h.Do(http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	require.JSONEq(t, `{"nodes":[
		{"id":"a","level":0,"method":"POST","url":"https://gw.example/a"},
		{"id":"h","level":1,"method":"POST","url":"https://gw.example/h"},
		{"id":"r","level":1,"method":"POST","url":"https://gw.example/r","when":"tasks.a.status == 200"}],
		"edges":[{"from":"a","to":"h","run_if":"any_failed"},{"from":"a","to":"r","run_if":"all_done"}]}`, string(resp.Body))

	dot := string(b.h.Do(http.MethodGet, path+"?format=dot", nil).Body)
	require.Contains(t, dot, `"a" -> "h" [style=dashed, color="#c62828", label="any_failed"];`)
	require.Contains(t, dot, `"a" -> "r" [style=dotted, label="all_done"];`)
	require.Contains(t, dot, `when tasks.a.status == 200`)

	svg := string(b.h.Do(http.MethodGet, path+"?format=svg", nil).Body)
	require.Contains(t, svg, `class="edge edge-failure"`)
	require.Contains(t, svg, `class="edge edge-always"`)
	require.Contains(t, svg, `a → h (any_failed)`)
}

// A run's page shows a timed-out run, its skipped tasks and its failure
// branch drawn apart.
func TestRunPageShowsTimedOutRunAndSkippedTasks(t *testing.T) {
	t.Parallel()
	h := heraldtest.Start(t, heraldtest.Options{})
	release := make(chan struct{})
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/hang" {
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() { close(release) }) // before the receiver closes: cleanups run last first
	_, runID := startRun(t, h, map[string]any{"name": "page", "run_timeout": "1s", "tasks": []any{
		map[string]any{"id": "a", "request": map[string]any{"url": rc.URL + "/a"}},
		map[string]any{"id": "cond", "depends_on": []string{"a"}, "when": "tasks.a.status == 500", "request": map[string]any{"url": rc.URL + "/cond"}},
		map[string]any{"id": "onfail", "depends_on": []string{"a"}, "run_if": "any_failed", "request": map[string]any{"url": rc.URL + "/onfail"}},
		map[string]any{"id": "hang", "depends_on": []string{"a"}, "request": map[string]any{"url": rc.URL + "/hang", "timeout": "1m"}},
	}})
	heraldtest.Eventually(t, 15*time.Second, func() bool {
		var r runResp
		h.Do(http.MethodGet, "/v1/runs/"+runID, nil).JSON(t, &r)
		return r.State == "timed_out"
	}, "the run did not time out")

	html, _ := getAsBrowser(t, h, "/runs/"+runID)
	require.Contains(t, html, `data-testid="run-state" data-state="timed_out"`)
	require.Contains(t, html, `data-testid="task-cond" data-state="skipped"`)
	require.Contains(t, html, `data-testid="task-onfail" data-state="skipped"`)
	require.Contains(t, html, `data-testid="task-hang" data-state="cancelled"`)
	require.Contains(t, html, `class="edge edge-failure"`)
	require.Contains(t, html, `data-state="skipped">skipped 2`)
}
