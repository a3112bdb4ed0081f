package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// jobBody is a valid job body, as JSON text, with fragment spliced in as
// its last member(s) (fragment may be "").
func jobBody(fragment string) string {
	body := `{"name": "hostile", "tasks": [{"id": "a", "request": {"url": "https://gw.example/a", "headers": {"X-Site": "17\tb"}, "body": {"k": [1, "v"]}}, "retry": {"max_attempts": 3}}]`
	if fragment != "" {
		body += ", " + fragment
	}
	return body + "}"
}

// taskBody is a valid one-task job body whose task has the given members.
func taskBody(task string) string {
	return `{"name": "hostile", "tasks": [{` + task + `}]}`
}

// snapshot is a digest of every herald table's rows (River's included), but
// the audit log's: a refused write leaves its audit row by design.
func snapshot(t *testing.T, b *testBundle) string {
	t.Helper()
	ctx := context.Background()
	rows, err := b.h.Pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		if name != "audit_log" {
			tables = append(tables, name)
		}
	}
	require.NoError(t, rows.Err())
	var out strings.Builder
	for _, name := range tables {
		var digest string
		require.NoError(t, b.h.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM %q t`, name)).Scan(&digest))
		fmt.Fprintf(&out, "%s=%s ", name, digest)
	}
	return out.String()
}

// Every hostile input of the adversarial pass (issue 17), and more, against
// the real API and pages: none answers 5xx, each is refused with the status
// and field expected, and none writes a row (nor changes one).
func TestHostileInputIsRefusedWithoutA500(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp := b.h.Do(http.MethodPost, "/v1/jobs", validJob())
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var job jobResp
	resp.JSON(t, &job)
	jobPath := "/v1/jobs/" + job.ID

	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	// Two days ahead, so that the instant is ahead whatever the offset.
	soon := time.Now().Add(48 * time.Hour).UTC()
	at := func(offset string) string {
		return fmt.Sprintf(`{"at": %q}`, soon.Format("2006-01-02T15:04:05")+offset)
	}

	tests := []struct {
		name      string
		method    string // default POST
		path      string // default /v1/jobs
		body      string // sent as is
		header    http.Header
		wantCode  int    // 0: any 4xx
		wantField string // "": not checked
		page      bool   // an HTML page, not problem+json
	}{
		// NUL, invalid UTF-8 and unpaired surrogates in every kind of string.
		{name: "NUL in name", body: `{"name": "a\u0000b", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "name"},
		{name: "invalid UTF-8 in name", body: "{\"name\": \"a\xff\xfeb\", \"tasks\": [{\"request\": {\"url\": \"https://gw.example/\"}}]}", wantCode: 422, wantField: "name"},
		{name: "lone high surrogate in name", body: `{"name": "a\ud800b", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "name"},
		{name: "lone low surrogate in name", body: `{"name": "a\udc00", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "name"},
		{name: "high surrogate then a letter", body: `{"name": "\ud800\u0041", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "name"},
		{name: "two high surrogates", body: `{"name": "\ud800\ud800", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "name"},
		{name: "NUL in a label value", body: jobBody(`"labels": {"site": "1\u00007"}`), wantCode: 422, wantField: "labels.site"},
		{name: "invalid UTF-8 in a label value", body: jobBody("\"labels\": {\"site\": \"\xc3\x28\"}"), wantCode: 422, wantField: "labels.site"},
		{name: "NUL in a label key", body: jobBody(`"labels": {"si\u0000te": "17"}`), wantCode: 422, wantField: "labels.si\x00te"},
		{name: "NUL in a URL", body: taskBody(`"request": {"url": "https://gw.example/\u0000"}`), wantCode: 422, wantField: "tasks[0].request.url"},
		{name: "NUL in a header value", body: taskBody(`"request": {"url": "https://gw.example/", "headers": {"X-A": "a\u0000b"}}`), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "invalid UTF-8 in a header value", body: taskBody("\"request\": {\"url\": \"https://gw.example/\", \"headers\": {\"X-A\": \"\xff\"}}"), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "NUL deep in the request body", body: taskBody(`"request": {"url": "https://gw.example/", "body": {"a": [1, {"b": "x\u0000"}]}}`), wantCode: 422, wantField: "tasks[0].request.body.a[1].b"},
		{name: "lone surrogate in the request body", body: taskBody(`"request": {"url": "https://gw.example/", "body": "\udfff"}`), wantCode: 422, wantField: "tasks[0].request.body"},
		{name: "invalid UTF-8 in a request body key", body: taskBody("\"request\": {\"url\": \"https://gw.example/\", \"body\": {\"\xfe\": 1}}"), wantCode: 422, wantField: "tasks[0].request.body.\uFFFD"},
		{name: "NUL in a task id", body: taskBody(`"id": "a\u0000", "request": {"url": "https://gw.example/"}`), wantCode: 422, wantField: "tasks[0].id"},
		{name: "NUL in depends_on", body: `{"name": "x", "tasks": [{"id": "a", "request": {"url": "https://gw.example/"}}, {"id": "b", "depends_on": ["a\u0000"], "request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "tasks[1].depends_on[0]"},
		{name: "NUL in a cron expression", body: jobBody(`"schedule": {"cron": "* * * * *\u0000"}`), wantCode: 422, wantField: "schedule.cron"},
		{name: "NUL in a time zone", body: jobBody(`"schedule": {"cron": "* * * * *", "timezone": "UTC\u0000"}`), wantCode: 422, wantField: "schedule.timezone"},
		{name: "NUL in the method", body: taskBody(`"request": {"method": "GET\u0000", "url": "https://gw.example/"}`), wantCode: 422, wantField: "tasks[0].request.method"},
		{name: "NUL in a TLS certificate", body: taskBody(`"request": {"url": "https://gw.example/", "tls": {"ca_certificates": "\u0000"}}`), wantCode: 422, wantField: "tasks[0].request.tls.ca_certificates"},
		{name: "NUL in an unknown key", body: jobBody(`"\u0000": 1`), wantCode: 422, wantField: "\x00"},
		{name: "invalid UTF-8 outside strings", body: "{\"name\": \"x\"\xff}", wantCode: 400},

		// Duplicate keys, anywhere.
		{name: "duplicate name", body: `{"name": "a", "name": "b", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "name"},
		{name: "duplicate field in another case", body: `{"name": "a", "Name": "b", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "Name"},
		{name: "duplicate header", body: taskBody(`"request": {"url": "https://gw.example/", "headers": {"X-A": "1", "X-A": "2"}}`), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "duplicate key in the request body", body: taskBody(`"request": {"url": "https://gw.example/", "body": {"k": 1, "k": 2}}`), wantCode: 422, wantField: "tasks[0].request.body.k"},
		{name: "duplicate label", body: jobBody(`"labels": {"a": "1", "a": "2"}`), wantCode: 422, wantField: "labels.a"},
		{name: "duplicate labels object", body: jobBody(`"labels": {"a": "1"}, "labels": {"b": "1"}`), wantCode: 422, wantField: "labels"},
		{name: "duplicate key among many", body: taskBody(`"request": {"url": "https://gw.example/", "body": {` + manyKeys(40) + `, "k7": 0}}`), wantCode: 422, wantField: "tasks[0].request.body.k7"},

		// Structure, types and numbers.
		{name: "deeply nested request body", body: taskBody(`"request": {"url": "https://gw.example/", "body": ` + deep(300) + `}`), wantCode: 400, wantField: "tasks[0].request.body" + strings.Repeat("[0]", 252)},
		{name: "unterminated deep nesting", body: strings.Repeat("[", 100_000), wantCode: 400},
		{name: "body is null", body: `null`, wantCode: 422},
		{name: "body is an array", body: `[]`, wantCode: 400},
		{name: "body is a string", body: `"job"`, wantCode: 400},
		{name: "body is a number", body: `1e400`, wantCode: 400},
		{name: "name is a number", body: `{"name": 5, "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 400, wantField: "name"},
		{name: "schedule is a list", body: jobBody(`"schedule": []`), wantCode: 400, wantField: "schedule"},
		{name: "label value is a number", body: jobBody(`"labels": {"a": 1}`), wantCode: 400, wantField: "labels.a"},
		{name: "header value is an object", body: taskBody(`"request": {"url": "https://gw.example/", "headers": {"X-A": {}}}`), wantCode: 400, wantField: "tasks[0].request.headers.X-A"},
		{name: "paused is a string", body: jobBody(`"paused": "yes"`), wantCode: 400, wantField: "paused"},
		{name: "huge max_attempts", body: taskBody(`"request": {"url": "https://gw.example/"}, "retry": {"max_attempts": 1e400}`), wantCode: 400, wantField: "tasks[0].retry.max_attempts"},
		{name: "max_attempts beyond int64", body: taskBody(`"request": {"url": "https://gw.example/"}, "retry": {"max_attempts": 9223372036854775808}`), wantCode: 400, wantField: "tasks[0].retry.max_attempts"},
		{name: "huge rate", body: jobBody(`"rate": 1e400`), wantCode: 400, wantField: "rate"},
		{name: "tiny rate", body: jobBody(`"rate": 1e-300`), wantCode: 422, wantField: "rate"},
		{name: "rate below one per 1000 s", body: jobBody(`"rate": 0.0009`), wantCode: 422, wantField: "rate"},
		{name: "negative rate", body: jobBody(`"rate": -1`), wantCode: 422, wantField: "rate"},
		{name: "huge max_in_flight", body: jobBody(`"max_in_flight": 99999999999999999999`), wantCode: 400, wantField: "max_in_flight"},
		{name: "unknown field under retry", body: taskBody(`"request": {"url": "https://gw.example/"}, "retry": {"verb": 1}`), wantCode: 400, wantField: "tasks[0].retry.verb"},
		{name: "unknown field under request", body: taskBody(`"request": {"url": "https://gw.example/", "verb": 1}`), wantCode: 400, wantField: "tasks[0].request.verb"},
		{name: "huge duration", body: taskBody(`"request": {"url": "https://gw.example/", "timeout": "9999999999999999999h"}`), wantCode: 400, wantField: "tasks[0].request.timeout"},

		// Explicit zeros are not defaults.
		{name: "timeout 0s", body: taskBody(`"request": {"url": "https://gw.example/", "timeout": "0s"}`), wantCode: 422, wantField: "tasks[0].request.timeout"},
		{name: "max_attempts 0", body: taskBody(`"request": {"url": "https://gw.example/"}, "retry": {"max_attempts": 0}`), wantCode: 422, wantField: "tasks[0].retry.max_attempts"},
		{name: "initial_interval 0s", body: taskBody(`"request": {"url": "https://gw.example/"}, "retry": {"initial_interval": "0s"}`), wantCode: 422, wantField: "tasks[0].retry.initial_interval"},
		{name: "max_interval 0s", body: taskBody(`"request": {"url": "https://gw.example/"}, "retry": {"max_interval": "0s"}`), wantCode: 422, wantField: "tasks[0].retry.max_interval"},
		{name: "max_in_flight 0", body: jobBody(`"max_in_flight": 0`), wantCode: 422, wantField: "max_in_flight"},
		{name: "rate 0", body: jobBody(`"rate": 0`), wantCode: 422, wantField: "rate"},

		// Times PostgreSQL or RFC 3339 would not take.
		{name: "at with offset +24:00", body: jobBody(`"schedule": ` + at("+24:00")), wantCode: 422, wantField: "schedule.at"},
		{name: "at with offset -24:00", body: jobBody(`"schedule": ` + at("-24:00")), wantCode: 422, wantField: "schedule.at"},
		{name: "at with offset +99:00", body: jobBody(`"schedule": ` + at("+99:00")), wantCode: 400, wantField: "schedule.at"},
		{name: "at in year 10000", body: jobBody(`"schedule": {"at": "10000-01-01T00:00:00Z"}`), wantCode: 400, wantField: "schedule.at"},
		{name: "at in year 9999", body: jobBody(`"schedule": {"at": "9999-12-31T23:59:59-23:59"}`), wantCode: 422, wantField: "schedule.at"},
		{name: "at in year 0", body: jobBody(`"schedule": {"at": "0000-01-01T00:00:00Z"}`), wantCode: 422, wantField: "schedule.at"},
		{name: "preview at with offset +24:00", path: "/v1/schedules/preview", body: `{"schedule": ` + at("+24:00") + `}`, wantCode: 422, wantField: "schedule.at"},
		{name: "preview with count 0", path: "/v1/schedules/preview", body: `{"schedule": {"every": "1m"}, "count": 0}`, wantCode: 422, wantField: "count"},
		{name: "preview with NUL in cron", path: "/v1/schedules/preview", body: `{"schedule": {"cron": "\u0000"}}`, wantCode: 422, wantField: "schedule.cron"},
		{name: "preview in each device's zone", path: "/v1/schedules/preview", body: `{"schedule": {"cron": "0 3 * * *", "timezone": "device"}}`, wantCode: 422, wantField: "schedule.timezone"},
		{name: "preview with duplicate keys", path: "/v1/schedules/preview", body: `{"schedule": {"every": "1m", "every": "2m"}}`, wantCode: 422, wantField: "schedule.every"},

		// Replacing a job: refused the same way, the job unchanged.
		{name: "update with NUL in name", method: http.MethodPut, path: jobPath, body: `{"name": "\u0000", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantCode: 422, wantField: "name"},
		{name: "update with at +24:00", method: http.MethodPut, path: jobPath, body: jobBody(`"schedule": ` + at("+24:00")), wantCode: 422, wantField: "schedule.at"},
		{name: "update with a control character in a header", method: http.MethodPut, path: jobPath, body: taskBody(`"request": {"url": "https://gw.example/", "headers": {"X-A": "a\u0001b"}}`), wantCode: 422, wantField: "tasks[0].request.headers.X-A"},
		{name: "update with timeout 0s", method: http.MethodPut, path: jobPath, body: taskBody(`"request": {"url": "https://gw.example/", "timeout": "0s"}`), wantCode: 422, wantField: "tasks[0].request.timeout"},

		// API keys and replays.
		{name: "key name with NUL", path: "/v1/keys", body: `{"name": "ci\u0000"}`, wantCode: 422, wantField: "name"},
		{name: "key name with invalid UTF-8", path: "/v1/keys", body: "{\"name\": \"ci\xff\"}", wantCode: 422, wantField: "name"},
		{name: "key name twice", path: "/v1/keys", body: `{"name": "a", "name": "b"}`, wantCode: 422, wantField: "name"},
		{name: "replay limit 0", path: "/v1/runs/replay", body: `{"limit": 0}`, wantCode: 422, wantField: "limit"},
		{name: "replay with NUL in an unknown key", path: "/v1/runs/replay", body: `{"\u0000": 1}`, wantCode: 422, wantField: "\x00"},

		// Query strings and paths.
		{name: "list jobs by NUL name", method: http.MethodGet, path: "/v1/jobs?name=%00", wantCode: 400, wantField: "name"},
		{name: "list jobs by invalid UTF-8 name", method: http.MethodGet, path: "/v1/jobs?name=%ff%fe", wantCode: 400, wantField: "name"},
		{name: "list jobs by NUL label value", method: http.MethodGet, path: "/v1/jobs?label=k%3D%00", wantCode: 400, wantField: "label"},
		{name: "list jobs by invalid UTF-8 label key", method: http.MethodGet, path: "/v1/jobs?label=%ff%3Dv", wantCode: 400, wantField: "label"},
		{name: "list jobs with NUL paused", method: http.MethodGet, path: "/v1/jobs?paused=%00", wantCode: 400, wantField: "paused"},
		{name: "list jobs with a NUL cursor", method: http.MethodGet, path: "/v1/jobs?cursor=%00", wantCode: 400, wantField: "cursor"},
		{name: "list jobs with an invalid UTF-8 parameter name", method: http.MethodGet, path: "/v1/jobs?%ff=1", wantCode: 400, wantField: "\uFFFD"},
		{name: "list runs by NUL state", method: http.MethodGet, path: "/v1/runs?state=%00", wantCode: 400, wantField: "state"},
		{name: "list runs by invalid UTF-8 job", method: http.MethodGet, path: "/v1/runs?job_id=%ff", wantCode: 400, wantField: "job_id"},
		{name: "list runs from NUL", method: http.MethodGet, path: "/v1/runs?from=%00", wantCode: 400, wantField: "from"},
		{name: "list runs with NUL limit", method: http.MethodGet, path: "/v1/runs?limit=%00", wantCode: 400, wantField: "limit"},
		{name: "graph with NUL format", method: http.MethodGet, path: jobPath + "/graph?format=%00", wantCode: 400, wantField: "format"},
		{name: "NUL job id", method: http.MethodGet, path: "/v1/jobs/%00", wantCode: 404},
		{name: "invalid UTF-8 job id", method: http.MethodGet, path: "/v1/jobs/%ff%fe", wantCode: 404},
		{name: "trigger an invalid UTF-8 job with an idempotency key", path: "/v1/jobs/%ff/runs", header: http.Header{"Idempotency-Key": {"k1"}}, wantCode: 404},
		{name: "trigger a NUL job with an idempotency key", path: "/v1/jobs/%00/runs", header: http.Header{"Idempotency-Key": {"k1"}}, wantCode: 404},
		{name: "idempotency key with bytes beyond ASCII", body: jobBody(""), header: http.Header{"Idempotency-Key": {"k\xff"}}, wantCode: 400, wantField: "Idempotency-Key"},
		{name: "NUL run id", method: http.MethodGet, path: "/v1/runs/%00", wantCode: 404},
		{name: "revoke a NUL key", method: http.MethodDelete, path: "/v1/keys/%00", wantCode: 404},
		{name: "job list page by NUL name", method: http.MethodGet, path: "/jobs?name=%00", wantCode: 400, page: true},
		{name: "job list page by invalid UTF-8 label", method: http.MethodGet, path: "/jobs?label=%ff%3D1", wantCode: 400, page: true},
		{name: "job page with invalid UTF-8 id", method: http.MethodGet, path: "/jobs/%ff", wantCode: 404, page: true},
		{name: "run page with NUL id", method: http.MethodGet, path: "/runs/%00", wantCode: 404, page: true},
		{name: "trigger form on an invalid UTF-8 job", path: "/jobs/%ff/trigger", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, wantCode: 404, page: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, b)
			method, path := or(tt.method, http.MethodPost), or(tt.path, "/v1/jobs")
			header := http.Header{"Authorization": {"Bearer " + heraldtest.APIKey}}
			for k, v := range tt.header {
				header[k] = v
			}
			var body any
			if tt.body != "" {
				body = tt.body
			}
			var resp *heraldtest.Response
			if tt.page {
				// Pages are not in the OpenAPI document: served unwrapped.
				resp = serveDirect(t, b.h.Routes, method, path, tt.body, header)
			} else {
				resp = b.h.DoWithHeader(method, path, body, header)
			}
			require.Less(t, resp.Status, 500, "got %v, want no 5xx: %s", resp.Status, resp.Body)
			require.GreaterOrEqual(t, resp.Status, 400, "got %v, want a refusal: %s", resp.Status, resp.Body)
			if tt.wantCode != 0 {
				require.Equal(t, tt.wantCode, resp.Status, "got %v, want %v: %s", resp.Status, tt.wantCode, resp.Body)
			}
			if tt.page {
				require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			} else {
				require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "body: %s", resp.Body)
				var p problem
				require.NoError(t, json.Unmarshal(resp.Body, &p), "body: %s", resp.Body)
				require.Equal(t, resp.Status, p.Status)
				require.NotEmpty(t, p.Detail)
				if tt.wantField != "" {
					require.NotEmpty(t, p.Errors, "problem names no field: %s", resp.Body)
					require.Equal(t, tt.wantField, p.Errors[0].Field, "got %v, want %v: %s", p.Errors[0].Field, tt.wantField, resp.Body)
				}
			}
			require.Equal(t, before, snapshot(t, b), "a refused request wrote to the database")
		})
	}
}

// serveDirect serves a request with h, in process.
func serveDirect(t *testing.T, h http.Handler, method, path, body string, header http.Header) *heraldtest.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return &heraldtest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// manyKeys is n distinct members "k0": 0, "k1": 1, ...
func manyKeys(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d": %d`, i, i)
	}
	return strings.Join(parts, ", ")
}

// or is s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// What the hostile inputs above are near to is accepted: explicit non-zero
// values, the bounds of rate, surrogate pairs, NUL-free text beyond ASCII,
// a tab in a header, absent fields taking their defaults.
func TestInputNearTheLimitsIsAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two days ahead: local times up to 23:59 ahead of UTC are still future.
	soon := time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02T15:04:05")
	tests := []struct {
		name string
		body string
	}{
		{name: "surrogate pair and accents", body: `{"name": "h\u00e9ros \ud83d\ude00", "tasks": [{"request": {"url": "https://gw.example/", "body": {"emoji": "\ud83d\ude00"}}}]}`},
		{name: "tab in a header value, UTF-8 label", body: jobBody(`"labels": {"site": "Z\u00fcrich"}`)},
		{name: "lowest rate", body: jobBody(`"rate": 0.001`)},
		{name: "highest rate", body: jobBody(`"rate": 10000`)},
		{name: "at with offset +23:59", body: jobBody(`"schedule": {"at": "` + soon + `+23:59"}`)},
		{name: "at with offset -23:59", body: jobBody(`"schedule": {"at": "` + soon + `-23:59"}`)},
		{name: "escaped backslash before u0000 text", body: taskBody(`"request": {"url": "https://gw.example/", "body": "\\u0000"}`)},
		{name: "nesting within the bound", body: taskBody(`"request": {"url": "https://gw.example/", "body": ` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`)},
		{name: "same key in different objects", body: taskBody(`"request": {"url": "https://gw.example/", "body": {"k": {"k": 1}, "j": {"k": 2}}}`)},
		{name: "keys differing in case in the request body", body: taskBody(`"request": {"url": "https://gw.example/", "body": {"k": 1, "K": 2}}`)},
		{name: "explicit non-zero retry", body: taskBody(`"request": {"url": "https://gw.example/", "timeout": "100ms"}, "retry": {"max_attempts": 1, "initial_interval": "10ms", "max_interval": "10ms"}`)},
		{name: "huge number in the request body", body: taskBody(`"request": {"url": "https://gw.example/", "body": {"n": 1e400}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := b.h.Do(http.MethodPost, "/v1/jobs", tt.body)
			require.Equal(t, http.StatusCreated, resp.Status, "got %v, want 201: %s", resp.Status, resp.Body)
		})
	}

	// Absent fields take their defaults.
	resp := b.h.Do(http.MethodPost, "/v1/jobs", taskBody(`"request": {"url": "https://gw.example/"}`))
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j jobResp
	resp.JSON(t, &j)
	require.Equal(t, "30s", j.Tasks[0].Request.Timeout)
	require.Equal(t, 5, j.Tasks[0].Retry.MaxAttempts)
}
