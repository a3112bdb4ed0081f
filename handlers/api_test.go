package handlers_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

type testBundle struct {
	h *heraldtest.Herald
}

// setup starts an insert-only herald (nothing is delivered) whose every
// exchange is validated against openapi.yaml.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{h: heraldtest.Start(t, heraldtest.Options{NoWork: true, Wrap: heraldtest.ValidateOpenAPI(t)})}
}

type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (b *testBundle) rowCounts(t *testing.T) string {
	t.Helper()
	var jobs, runs, riverJobs int
	require.NoError(t, b.h.Pool.QueryRow(context.Background(),
		"SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM runs), (SELECT count(*) FROM river_job)").Scan(&jobs, &runs, &riverJobs))
	return fmt.Sprintf("jobs=%d runs=%d river_jobs=%d", jobs, runs, riverJobs)
}

func validJob() map[string]any {
	return map[string]any{
		"name":     "reboot-gateway",
		"schedule": map[string]any{"delay": "1h"},
		"tasks": []any{map[string]any{
			"id":      "reboot",
			"request": map[string]any{"url": "https://gw-17.example/reboot", "headers": map[string]any{"X-Site": "17"}, "body": map[string]any{"graceful": true}, "timeout": "10s"},
			"retry":   map[string]any{"max_attempts": 5, "initial_interval": "1s", "max_interval": "5m"},
		}},
		"labels": map[string]any{"site": "17"},
	}
}

// with returns validJob() with the value at a dotted path ("tasks.0.request.url") set.
func with(path string, value any) map[string]any {
	j := validJob()
	var cur any = j
	parts := strings.Split(path, ".")
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = value
			} else {
				cur = c[p]
			}
		case []any:
			var idx int
			fmt.Sscan(p, &idx)
			if last {
				c[idx] = value
			} else {
				cur = c[idx]
			}
		}
	}
	return j
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	auth := http.Header{"Authorization": {"Bearer " + heraldtest.APIKey}}
	dagJob := func(tasks ...map[string]any) map[string]any {
		j := validJob()
		list := []any{}
		for _, t := range tasks {
			if _, ok := t["request"]; !ok {
				t["request"] = map[string]any{"url": "https://gw.example/" + fmt.Sprint(t["id"])}
			}
			list = append(list, t)
		}
		j["tasks"] = list
		return j
	}
	ref := func(id string, deps []string, body any) map[string]any {
		return map[string]any{"id": id, "depends_on": deps, "request": map[string]any{"url": "https://gw.example/" + id, "body": body}}
	}

	tests := []struct {
		name      string
		body      any
		header    http.Header
		wantCode  int
		wantField string // "" when the problem names no field
	}{
		{name: "malformed JSON", body: `{"name": "x", "tasks": [`, wantCode: 400},
		{name: "empty body", body: ``, wantCode: 400},
		{name: "trailing data", body: `{"name":"x","tasks":[{"request":{"url":"https://a.example"}}]} {}`, wantCode: 400},
		{name: "unknown top-level field", body: with("color", "red"), wantCode: 400, wantField: "color"},
		{name: "unknown nested field", body: with("tasks.0.request.verb", "POST"), wantCode: 400, wantField: "tasks[0].request.verb"},
		{name: "tasks not a list", body: with("tasks", map[string]any{}), wantCode: 400, wantField: "tasks"},
		{name: "max_attempts not a number", body: with("tasks.0.retry.max_attempts", "five"), wantCode: 400, wantField: "tasks[0].retry.max_attempts"},
		{name: "bad timeout duration", body: with("tasks.0.request.timeout", "10 parsecs"), wantCode: 400, wantField: "tasks[0].request.timeout"},
		{name: "bad delay duration", body: with("schedule", map[string]any{"delay": "soon"}), wantCode: 400, wantField: "schedule.delay"},
		{name: "at not a time", body: with("schedule", map[string]any{"at": "tomorrow"}), wantCode: 400, wantField: "schedule.at"},
		{name: "missing name", body: with("name", ""), wantCode: 422, wantField: "name"},
		{name: "missing url", body: with("tasks.0.request.url", ""), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "ftp scheme", body: with("tasks.0.request.url", "ftp://gw-17.example/file"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "cloud metadata target", body: with("tasks.0.request.url", "http://169.254.169.254/latest/meta-data"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "private target not allowed", body: with("tasks.0.request.url", "http://10.1.2.3/"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "metadata as a decimal number", body: with("tasks.0.request.url", "http://2852039166/"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "metadata as a hex number", body: with("tasks.0.request.url", "http://0xa9fea9fe/"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "metadata in octal parts", body: with("tasks.0.request.url", "http://0251.0376.0251.0376/"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "private network in two parts", body: with("tasks.0.request.url", "http://10.1/"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "unspecified address as 0", body: with("tasks.0.request.url", "http://0/"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "host ending in a number that is no address", body: with("tasks.0.request.url", "http://1.2.3.256/"), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "at in the past", body: with("schedule", map[string]any{"at": time.Now().Add(-time.Hour).Format(time.RFC3339)}), wantCode: 422, wantField: "schedule.at"},
		{name: "two schedule kinds", body: with("schedule", map[string]any{"delay": "1s", "at": time.Now().Add(time.Hour).Format(time.RFC3339)}), wantCode: 422, wantField: "schedule"},
		{name: "cron with 4 fields", body: with("schedule", map[string]any{"cron": "* * * *"}), wantCode: 422, wantField: "schedule.cron"},
		{name: "cron with 7 fields", body: with("schedule", map[string]any{"cron": "0 * * * * * 2027"}), wantCode: 422, wantField: "schedule.cron"},
		{name: "cron out of range", body: with("schedule", map[string]any{"cron": "61 * * * * *"}), wantCode: 422, wantField: "schedule.cron"},
		{name: "cron garbage", body: with("schedule", map[string]any{"cron": "every tuesday"}), wantCode: 422, wantField: "schedule.cron"},
		{name: "cron that never fires", body: with("schedule", map[string]any{"cron": "0 0 30 2 *"}), wantCode: 422, wantField: "schedule.cron"},
		{name: "unknown time zone", body: with("schedule", map[string]any{"cron": "0 2 * * *", "timezone": "Mars/Olympus"}), wantCode: 422, wantField: "schedule.timezone"},
		{name: "every below the minimum", body: with("schedule", map[string]any{"every": "500ms"}), wantCode: 422, wantField: "schedule.every"},
		{name: "every unparsable", body: with("schedule", map[string]any{"every": "often"}), wantCode: 400, wantField: "schedule.every"},
		{name: "time zone with every", body: with("schedule", map[string]any{"every": "1m", "timezone": "UTC"}), wantCode: 422, wantField: "schedule.timezone"},
		{name: "device time zone without a fleet task", body: with("schedule", map[string]any{"cron": "0 3 * * *", "timezone": "device"}), wantCode: 422, wantField: "schedule.timezone"},
		{name: "bad overlap", body: with("overlap", "sometimes"), wantCode: 422, wantField: "overlap"},
		{name: "rate zero", body: with("rate", 0), wantCode: 422, wantField: "rate"},
		{name: "rate too high", body: with("rate", 1e6), wantCode: 422, wantField: "rate"},
		{name: "rate not a number", body: with("rate", "fast"), wantCode: 400, wantField: "rate"},
		{name: "max_in_flight zero", body: with("max_in_flight", 0), wantCode: 422, wantField: "max_in_flight"},
		{name: "negative delay", body: with("schedule", map[string]any{"delay": "-1s"}), wantCode: 422, wantField: "schedule.delay"},
		{name: "timeout too long", body: with("tasks.0.request.timeout", "1h"), wantCode: 422, wantField: "tasks[0].request.timeout"},
		{name: "max_attempts out of range", body: with("tasks.0.retry.max_attempts", 500), wantCode: 422, wantField: "tasks[0].retry.max_attempts"},
		{name: "reserved header", body: with("tasks.0.request.headers", map[string]any{"Webhook-Id": "mine"}), wantCode: 422, wantField: "tasks[0].request.headers.Webhook-Id"},
		{name: "control character in a header value", body: with("tasks.0.request.headers", map[string]any{"X-A": "a\x01b"}), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "unit separator in a header value", body: with("tasks.0.request.headers", map[string]any{"X-A": "a\x1fb"}), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "DEL in a header value", body: with("tasks.0.request.headers", map[string]any{"X-A": "a\x7fb"}), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "line feed in a header value", body: with("tasks.0.request.headers", map[string]any{"X-A": "a\nb"}), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "header name not a token", body: with("tasks.0.request.headers", map[string]any{"X A": "b"}), wantCode: 422, wantField: "tasks[0].request.headers.X A"},
		{name: "header name with a colon", body: with("tasks.0.request.headers", map[string]any{"X-A:": "b"}), wantCode: 422, wantField: "tasks[0].request.headers.X-A:"},
		{name: "upgrade header", body: with("tasks.0.request.headers", map[string]any{"Upgrade": "websocket"}), wantCode: 422, wantField: "tasks[0].request.headers.Upgrade"},
		{name: "same header twice in different case", body: with("tasks.0.request.headers", map[string]any{"X-A": "1", "x-a": "2"}), wantCode: 422, wantField: "tasks[0].request.headers.x-a"},
		{name: "bad method", body: with("tasks.0.request.method", "FETCH"), wantCode: 422, wantField: "tasks[0].request.method"},
		{name: "bad misfire", body: with("misfire", "sometimes"), wantCode: 422, wantField: "misfire"},
		{name: "duplicate task id", body: dagJob(map[string]any{"id": "a"}, map[string]any{"id": "a"}), wantCode: 422, wantField: "tasks[1].id"},
		{name: "malformed task id", body: dagJob(map[string]any{"id": "a b"}), wantCode: 422, wantField: "tasks[0].id"},
		{name: "unknown dependency", body: dagJob(map[string]any{"id": "a"}, map[string]any{"id": "b", "depends_on": []string{"zz"}}), wantCode: 422, wantField: "tasks[1].depends_on"},
		{name: "self-loop", body: dagJob(map[string]any{"id": "a", "depends_on": []string{"a"}}), wantCode: 422, wantField: "tasks[0].depends_on"},
		{name: "cycle", body: dagJob(map[string]any{"id": "a", "depends_on": []string{"c"}}, map[string]any{"id": "b", "depends_on": []string{"a"}}, map[string]any{"id": "c", "depends_on": []string{"b"}}), wantCode: 422, wantField: "tasks[0].depends_on"},
		{name: "depends_on not a list of strings", body: dagJob(map[string]any{"id": "a", "depends_on": "b"}), wantCode: 400, wantField: "tasks[0].depends_on"},
		{name: "reference to a task not upstream", body: dagJob(map[string]any{"id": "a"}, ref("b", []string{}, map[string]any{"t": "{{ tasks.a.body.token }}"})), wantCode: 422, wantField: "tasks[1].request"},
		{name: "reference to an unknown task", body: dagJob(map[string]any{"id": "a"}, ref("b", []string{"a"}, map[string]any{"t": "{{ tasks.zz.status }}"})), wantCode: 422, wantField: "tasks[1].request"},
		{name: "template syntax error", body: dagJob(map[string]any{"id": "a"}, ref("b", []string{"a"}, map[string]any{"t": "{{ tasks.a.body"})), wantCode: 422, wantField: "tasks[1].request.body"},
		{name: "task body over its limit", body: with("tasks.0.request.body", strings.Repeat("a", 300<<10)), wantCode: 422, wantField: "tasks[0].request.body"},
		{name: "request body over the limit", body: with("tasks.0.request.body", strings.Repeat("a", 9<<20)), wantCode: 413},
		{name: "missing API key", body: validJob(), header: http.Header{}, wantCode: 401},
		{name: "wrong API key", body: validJob(), header: http.Header{"Authorization": {"Bearer nope"}}, wantCode: 401},
		{name: "not a bearer key", body: validJob(), header: http.Header{"Authorization": {"Basic " + heraldtest.APIKey}}, wantCode: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.rowCounts(t)
			header := tt.header
			if header == nil {
				header = auth
			}
			resp := b.h.DoWithHeader(http.MethodPost, "/v1/jobs", tt.body, header)
			require.Equal(t, tt.wantCode, resp.Status, "body: %s", resp.Body)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			var p problem
			resp.JSON(t, &p)
			require.Equal(t, tt.wantCode, p.Status)
			require.NotEmpty(t, p.Detail)
			if tt.wantField != "" {
				require.NotEmpty(t, p.Errors, "problem names no field: %s", resp.Body)
				require.Equal(t, tt.wantField, p.Errors[0].Field, "problem: %s", resp.Body)
			}
			require.Equal(t, before, b.rowCounts(t), "a refused request wrote to the database")
		})
	}
}

type jobResp struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Secret     string            `json:"secret"`
	NextFireAt *time.Time        `json:"next_fire_at"`
	Labels     map[string]string `json:"labels"`
	Tasks      []struct {
		ID      string `json:"id"`
		Request struct {
			Method  string `json:"method"`
			Timeout string `json:"timeout"`
		} `json:"request"`
		Retry struct {
			MaxAttempts int `json:"max_attempts"`
		} `json:"retry"`
	} `json:"tasks"`
}

func TestJobLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)

	before := time.Now()
	resp := b.h.Do(http.MethodPost, "/v1/jobs", validJob())
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var created jobResp
	resp.JSON(t, &created)
	require.Equal(t, "/v1/jobs/"+created.ID, resp.Header.Get("Location"))
	require.True(t, strings.HasPrefix(created.Secret, "whsec_"))
	require.NotNil(t, created.NextFireAt)
	require.WithinDuration(t, before.Add(time.Hour), *created.NextFireAt, 5*time.Second)
	require.Equal(t, "POST", created.Tasks[0].Request.Method, "default method")
	require.Equal(t, map[string]string{"site": "17"}, created.Labels)

	// Reads never show the secret again.
	resp = b.h.Do(http.MethodGet, "/v1/jobs/"+created.ID, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.NotContains(t, string(resp.Body), created.Secret)
	var got jobResp
	resp.JSON(t, &got)
	require.Equal(t, created.ID, got.ID)
	require.Empty(t, got.Secret)

	// Its next tick is in the row, for the ticker to claim.
	var due int
	require.NoError(t, b.h.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM jobs WHERE id = $1 AND next_fire_at IS NOT NULL AND NOT paused", created.ID).Scan(&due))
	require.Equal(t, 1, due)

	// A manual trigger starts a run at once.
	resp = b.h.Do(http.MethodPost, "/v1/jobs/"+created.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	var runResp struct {
		ID      string `json:"id"`
		Trigger string `json:"trigger"`
		State   string `json:"state"`
	}
	resp.JSON(t, &runResp)
	require.Equal(t, "manual", runResp.Trigger)
	require.Equal(t, "running", runResp.State)
	resp = b.h.Do(http.MethodGet, "/v1/runs/"+runResp.ID, nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	require.Contains(t, string(resp.Body), `"state":"pending"`)

	// Delete: gone from reads, runs kept.
	resp = b.h.Do(http.MethodDelete, "/v1/jobs/"+created.ID, nil)
	require.Equal(t, http.StatusNoContent, resp.Status)
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodGet, "/v1/jobs/"+created.ID, nil).Status)
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodDelete, "/v1/jobs/"+created.ID, nil).Status)
	require.Equal(t, http.StatusOK, b.h.Do(http.MethodGet, "/v1/runs/"+runResp.ID, nil).Status)
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodPost, "/v1/jobs/"+created.ID+"/runs", nil).Status)
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/v1/jobs/00000000-0000-7000-8000-000000000000", "/v1/jobs/not-a-uuid", "/v1/runs/00000000-0000-7000-8000-000000000000"} {
		resp := b.h.Do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusNotFound, resp.Status, path)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for i := range 5 {
		j := validJob()
		j["name"] = fmt.Sprintf("job-%d", i)
		resp := b.h.Do(http.MethodPost, "/v1/jobs", j)
		require.Equal(t, http.StatusCreated, resp.Status)
		var jr jobResp
		resp.JSON(t, &jr)
		ids = append([]string{jr.ID}, ids...) // newest first
	}
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 5, "pagination does not end")
		resp := b.h.Do(http.MethodGet, "/v1/jobs?limit=2&cursor="+cursor, nil)
		require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
		var p struct {
			Data       []jobResp `json:"data"`
			NextCursor *string   `json:"next_cursor"`
		}
		resp.JSON(t, &p)
		for _, j := range p.Data {
			seen = append(seen, j.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	require.Equal(t, ids, seen)

	for _, q := range []string{"limit=0", "limit=9999", "limit=x", "cursor=zzz"} {
		resp := b.h.Do(http.MethodGet, "/v1/jobs?"+q, nil)
		require.Equal(t, http.StatusBadRequest, resp.Status, q)
	}
	resp := b.h.Do(http.MethodGet, "/v1/runs?state=exploded", nil)
	require.Equal(t, http.StatusBadRequest, resp.Status)
	resp = b.h.Do(http.MethodGet, "/v1/runs?job_id="+ids[0], nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.JSONEq(t, `{"data":[],"next_cursor":null}`, string(resp.Body))
}

func TestHealthAndDocument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, b.h.DoWithHeader(http.MethodGet, "/healthz", nil, nil).Status)
	require.Equal(t, http.StatusOK, b.h.DoWithHeader(http.MethodGet, "/readyz", nil, nil).Status)
	resp := b.h.DoWithHeader(http.MethodGet, "/openapi.yaml", nil, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, string(resp.Body), "openapi: 3.1.0")
}

// TestRoutesMatchDocument checks that the router and openapi.yaml list the
// same operations, so neither can drift from the other.
func TestRoutesMatchDocument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := heraldtest.LoadOpenAPI(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	router, ok := b.h.Routes.(chi.Routes)
	require.True(t, ok)
	require.NoError(t, chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		route = strings.ReplaceAll(route, "/*/", "/")
		if isPage(route) {
			return nil // the pages are HTML for browsers, not the REST API
		}
		served[method+" "+route] = true
		return nil
	}))
	require.Equal(t, documented, served)
}

func TestCycleIsNamed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j := validJob()
	j["tasks"] = []any{
		map[string]any{"id": "fetch", "request": map[string]any{"url": "https://gw.example/a"}},
		map[string]any{"id": "push", "depends_on": []string{"fetch", "verify"}, "request": map[string]any{"url": "https://gw.example/b"}},
		map[string]any{"id": "reboot", "depends_on": []string{"push"}, "request": map[string]any{"url": "https://gw.example/c"}},
		map[string]any{"id": "verify", "depends_on": []string{"reboot"}, "request": map[string]any{"url": "https://gw.example/d"}},
	}
	resp := b.h.Do(http.MethodPost, "/v1/jobs", j)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "body: %s", resp.Body)
	var p problem
	resp.JSON(t, &p)
	msg := p.Errors[0].Message
	for _, id := range []string{"push", "reboot", "verify"} {
		require.Contains(t, msg, id, "the cycle's ids")
	}
	require.NotContains(t, msg, "fetch")
}

func TestGraphExport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j := validJob()
	delete(j, "schedule")
	j["tasks"] = []any{
		map[string]any{"id": "a", "request": map[string]any{"url": "https://gw.example/a"}},
		map[string]any{"id": "b", "depends_on": []string{"a"}, "request": map[string]any{"url": "https://gw.example/b"}},
		map[string]any{"id": "c", "depends_on": []string{"a", "b"}, "request": map[string]any{"url": "https://gw.example/c"}},
	}
	resp := b.h.Do(http.MethodPost, "/v1/jobs", j)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var created jobResp
	resp.JSON(t, &created)

	resp = b.h.Do(http.MethodGet, "/v1/jobs/"+created.ID+"/graph", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	require.JSONEq(t, `{"nodes":[
		{"id":"a","level":0,"method":"POST","url":"https://gw.example/a"},
		{"id":"b","level":1,"method":"POST","url":"https://gw.example/b"},
		{"id":"c","level":2,"method":"POST","url":"https://gw.example/c"}],
		"edges":[{"from":"a","to":"b"},{"from":"a","to":"c"},{"from":"b","to":"c"}]}`, string(resp.Body))

	resp = b.h.Do(http.MethodGet, "/v1/jobs/"+created.ID+"/graph?format=dot", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, string(resp.Body), `"a" -> "b";`)
	require.Contains(t, string(resp.Body), `"b" -> "c";`)
	require.Equal(t, http.StatusBadRequest, b.h.Do(http.MethodGet, "/v1/jobs/"+created.ID+"/graph?format=png", nil).Status)

	// Drawn: a well-formed SVG document with a box per task and a path
	// with an arrowhead per edge (views/layered; the browser test checks
	// the geometry).
	resp = b.h.Do(http.MethodGet, "/v1/jobs/"+created.ID+"/graph?format=svg", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
	dec := xml.NewDecoder(bytes.NewReader(resp.Body))
	var nodes, edges int
	var texts []string
	inNode, inText := false, false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "not well-formed: %s", resp.Body)
		switch el := tok.(type) {
		case xml.StartElement:
			class, marker := "", ""
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "class":
					class = a.Value
				case "marker-end":
					marker = a.Value
				}
			}
			switch {
			case el.Name.Local == "g" && class == "node":
				nodes++
				inNode = true
			case el.Name.Local == "path" && class == "edge":
				edges++
				require.NotEmpty(t, marker, "an edge without an arrowhead")
			case el.Name.Local == "text":
				inText = inNode
			}
		case xml.CharData:
			if inText && strings.TrimSpace(string(el)) != "" {
				texts = append(texts, string(el))
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "text":
				inText = false
			case "g":
				inNode = false
			}
		}
	}
	require.Equal(t, 3, nodes, "a box per task")
	require.Equal(t, 3, edges)
	require.Equal(t, []string{"a", "b", "c"}, texts)

	resp = b.h.Do(http.MethodPost, "/v1/jobs/"+created.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status)
	var run struct{ ID string }
	resp.JSON(t, &run)
	resp = b.h.Do(http.MethodGet, "/v1/runs/"+run.ID+"/graph", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	require.Contains(t, string(resp.Body), `"state":"pending"`)
	require.Contains(t, string(resp.Body), `"state":"waiting"`)
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodGet, "/v1/runs/00000000-0000-7000-8000-000000000000/graph", nil).Status)
}

// isPage says whether a route is one of the pages (and their assets).
func isPage(route string) bool {
	for _, prefix := range []string{"/jobs", "/runs", "/replicas", "/devices", "/timezone", "/static"} {
		if route == prefix || strings.HasPrefix(route, prefix+"/") {
			return true
		}
	}
	return route == ""
}

// Concurrent triggers share transactions: each still gets its own run of
// its own job (single-task and DAG alike), with its deliveries enqueued, and
// a trigger of a job that does not exist gets its 404 alone.
func TestConcurrentTriggersEachGetTheirRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for i := range 4 {
		j := validJob()
		if i == 3 {
			j["tasks"] = []any{
				map[string]any{"id": "a", "request": map[string]any{"url": "https://gw.example/a"}},
				map[string]any{"id": "b", "depends_on": []string{"a"}, "request": map[string]any{"url": "https://gw.example/b"}},
			}
		}
		delete(j, "schedule")
		resp := b.h.Do(http.MethodPost, "/v1/jobs", j)
		require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
		var created struct{ ID string }
		resp.JSON(t, &created)
		ids = append(ids, created.ID)
	}
	const perJob = 10
	missing := uuid.Must(uuid.NewV7()).String()
	type answer struct {
		job    string
		status int
		run    struct {
			ID    string `json:"id"`
			JobID string `json:"job_id"`
		}
	}
	var targets []string
	for _, id := range ids {
		for range perJob {
			targets = append(targets, id)
		}
	}
	targets = append(targets, missing, missing)
	answers := make([]answer, len(targets))
	var wg sync.WaitGroup
	for i, id := range targets {
		wg.Go(func() {
			resp := b.h.Do(http.MethodPost, "/v1/jobs/"+id+"/runs", nil)
			answers[i].job, answers[i].status = id, resp.Status
			if resp.Status == http.StatusAccepted {
				resp.JSON(t, &answers[i].run)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, a := range answers {
		if a.job == missing {
			require.Equal(t, http.StatusNotFound, a.status)
			continue
		}
		require.Equal(t, http.StatusAccepted, a.status)
		require.Equal(t, a.job, a.run.JobID)
		require.False(t, seen[a.run.ID], "run %s given twice", a.run.ID)
		seen[a.run.ID] = true
	}
	var runs, deliveries int
	require.NoError(t, b.h.Pool.QueryRow(context.Background(), "SELECT count(*) FROM runs WHERE trigger = 'manual'").Scan(&runs))
	require.NoError(t, b.h.Pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'herald.deliver'").Scan(&deliveries))
	require.Equal(t, 4*perJob, runs)
	require.Equal(t, 4*perJob, deliveries, "one first delivery per run (the DAG's b waits for a)")
}

func TestListJobsFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	create := func(name string, labels map[string]string, paused bool) string {
		j := validJob()
		j["name"], j["labels"], j["paused"] = name, labels, paused
		resp := b.h.Do(http.MethodPost, "/v1/jobs", j)
		require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
		var created jobResp
		resp.JSON(t, &created)
		return created.ID
	}
	berlin := create("Reboot Gateway 17", map[string]string{"site": "berlin", "kind": "gateway"}, false)
	paris := create("reboot gateway 18", map[string]string{"site": "paris", "kind": "gateway"}, true)
	meter := create("read meter", map[string]string{"site": "berlin", "kind": "meter"}, false)

	list := func(query string) []string {
		t.Helper()
		resp := b.h.Do(http.MethodGet, "/v1/jobs?"+query, nil)
		require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
		var page struct{ Data []jobResp }
		resp.JSON(t, &page)
		var ids []string
		for _, j := range page.Data {
			ids = append(ids, j.ID)
		}
		return ids
	}
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"none", "", []string{meter, paris, berlin}},
		{"paused", "paused=true", []string{paris}},
		{"active", "paused=false", []string{meter, berlin}},
		{"label", "label=site=berlin", []string{meter, berlin}},
		{"two labels", "label=site=berlin&label=kind=gateway", []string{berlin}},
		{"name ignores case", "name=GATEWAY", []string{paris, berlin}},
		{"all together", "name=gateway&label=kind=gateway&paused=false", []string{berlin}},
		{"nothing matches", "label=site=rome", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, list(tc.query), "got %v, want %v", list(tc.query), tc.want)
		})
	}
	for _, q := range []string{"paused=maybe", "label=site", "label==berlin"} {
		resp := b.h.Do(http.MethodGet, "/v1/jobs?"+q, nil)
		require.Equal(t, http.StatusBadRequest, resp.Status, "query %s", q)
	}
}
