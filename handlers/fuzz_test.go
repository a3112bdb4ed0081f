package handlers_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/taskref"
)

// fuzzSeeds are job bodies to start from: valid jobs of every shape, and
// the known-bad inputs of the adversarial pass (issue 17).
var fuzzSeeds = []string{
	`{"name": "n", "tasks": [{"request": {"url": "https://gw.example/hook"}}]}`,
	`{"name": "n", "schedule": {"cron": "*/10 * * * * *", "timezone": "Europe/Berlin"}, "overlap": "skip", "misfire": "fire_all", "labels": {"site": "17"}, "rate": 5, "max_in_flight": 3, "tasks": [{"id": "fetch", "request": {"method": "PUT", "url": "https://gw-17.example/fetch?x=1#f", "headers": {"X-Site": "17", "Content-Type": "text/plain"}, "body": {"full": true}, "timeout": "10s"}, "retry": {"max_attempts": 5, "initial_interval": "1s", "max_interval": "5m"}}]}`,
	`{"name": "dag", "tasks": [{"id": "a", "request": {"url": "http://gw.example/a"}}, {"id": "b", "depends_on": ["a"], "request": {"url": "http://gw.example/b/{{ tasks.a.body.token }}?s={{ tasks.a.status }}", "headers": {"X-T": "{{ tasks.a.body.items.1.k }}"}, "body": {"whole": "{{ tasks.a.body }}", "s": "status {{ tasks.a.status }}"}}}]}`,
	`{"name": "text", "schedule": {"every": "30s"}, "tasks": [{"request": {"url": "https://gw.example/", "body": "plain text"}}]}`,
	`{"name": "at", "schedule": {"at": "2030-01-01T00:00:00+23:59"}, "tasks": [{"request": {"url": "https://b\u00fccher.example/"}}]}`,
	`{"name": "delay", "schedule": {"delay": "90s"}, "tasks": [{"request": {"url": "http://0x7f.1:8080/", "method": "get"}}]}`,
	`{"name": "tls", "tasks": [{"request": {"url": "https://gw.example/", "tls": {"ca_certificates": "x"}}}]}`,
	`{"name": "a\u0000b", "tasks": [{"request": {"url": "https://gw.example/"}}]}`,
	"{\"name\": \"a\xff\xfeb\", \"tasks\": [{\"request\": {\"url\": \"https://gw.example/\"}}]}",
	`{"name": "\ud800", "labels": {"k": "a\u0000"}, "tasks": [{"request": {"url": "https://gw.example/"}}]}`,
	`{"name": "h", "tasks": [{"request": {"url": "https://gw.example/", "headers": {"X-A": "a\u0001b", "Upgrade": "h2c"}}}]}`,
	`{"name": "h", "tasks": [{"request": {"url": "https://gw.example/", "headers": {"X-A": "1", "x-a": "2", "X A": "3"}}}]}`,
	`{"name": "at", "schedule": {"at": "2030-01-01T00:00:00+24:00"}, "tasks": [{"request": {"url": "https://gw.example/"}}]}`,
	`{"name": "zeros", "rate": 1e-300, "tasks": [{"request": {"url": "https://gw.example/", "timeout": "0s"}, "retry": {"max_attempts": 0, "initial_interval": "0s", "max_interval": "0s"}}]}`,
	`{"name": "dup", "name": "dup", "tasks": [{"request": {"url": "https://gw.example/", "body": {"k": 1, "k": 2}}}]}`,
	`{"name": "ip", "tasks": [{"id": "a", "request": {"url": "http://2130706433/"}}, {"id": "b", "request": {"url": "http://0177.0.0.1:9/x"}}, {"id": "c", "request": {"url": "https://127.0.0.1./"}}]}`,
	`{"name": "ip", "tasks": [{"id": "a", "request": {"url": "http://2852039166/"}}, {"id": "b", "request": {"url": "http://0251.0376.0251.0376/"}}, {"id": "c", "request": {"url": "http://1.2.3.256/"}}]}`,
	`{"name": "deep", "tasks": [{"request": {"url": "https://gw.example/", "body": [[[[[[[[[[[[[[[[[[[[{"k": "\udfff"}]]]]]]]]]]]]]]]]]]]}}]}`,
	`{"name": "num", "max_in_flight": 1e400, "tasks": [{"request": {"url": "https://gw.example/", "body": 1e400}}]}`,
}

// FuzzValidJobIsStoredAndSendable feeds job bodies to POST /v1/jobs (the
// real decoding, validation and storage, in PostgreSQL) and checks that
// validation and what follows agree: no body gives a 5xx, and a job that
// is accepted is stored, its tasks read back, and each task's request (its
// references filled in) is one the dispatcher and Go's client send: it
// passes dispatch.CheckRequest and reaches a receiver, over HTTP/1.1 for
// http and HTTP/2 for https (the URL's host replaced by the receiver's).
//
// make test runs the seeds; fuzz with
//
//	go test ./handlers -run '^$' -fuzz FuzzValidJobIsStoredAndSendable -fuzztime 1m
func FuzzValidJobIsStoredAndSendable(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	fh := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, body []byte) { fh.check(t, body) })
}

// FuzzTaskFieldsAreStoredAndSendable is FuzzValidJobIsStoredAndSendable
// with the fuzzer's strings placed in a well-formed job (JSON-encoded), so
// that they reach validation rather than the JSON parser: the method, URL,
// one header, the body (as JSON text, or a string when not JSON), the
// timeout, a label and the name.
//
//	go test ./handlers -run '^$' -fuzz FuzzTaskFieldsAreStoredAndSendable -fuzztime 1m
func FuzzTaskFieldsAreStoredAndSendable(f *testing.F) {
	f.Add("POST", "https://gw.example/hook?a=1", "X-Site", "17", `{"k": [1, "v"]}`, "10s", "site", "n")
	f.Add("get", "http://0x7f.1:8080/", "X-A", "a\tb", `"text"`, "", "k", "n")
	f.Add("PUT", "http://gw.example/{{ tasks.a.body.token }}", "X-T", "{{ tasks.a.status }}", `{"t": "{{ tasks.a.body }}"}`, "100ms", "", "dag")
	f.Add("POST", "https://b\u00fccher.example/", "X-A", "a\x01b", `{"k": 1, "k": 2}`, "0s", "k", "a\x00b")
	f.Add("DELETE", "http://1.2.3.256/", "Upgrade", "h2c", `[[[]]]`, "5m", "a/b", "\xff")
	fh := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, method, rawURL, headerName, headerValue, body, timeout, labelKey, name string) {
		task := map[string]any{"method": method, "url": rawURL, "headers": map[string]string{headerName: headerValue}}
		if timeout != "" {
			task["timeout"] = timeout
		}
		if json.Valid([]byte(body)) {
			task["body"] = json.RawMessage(body)
		} else {
			task["body"] = body
		}
		tasks := []any{map[string]any{"id": "a", "request": map[string]any{"url": "https://gw.example/a"}},
			map[string]any{"id": "b", "depends_on": []string{"a"}, "request": task}}
		job, err := json.Marshal(map[string]any{"name": name, "labels": map[string]string{labelKey: name}, "tasks": tasks})
		if err != nil {
			return // the fuzzer's body made it invalid JSON after all
		}
		fh.check(t, job)
	})
}

// fuzzHarness is a test herald (its database and API, nothing delivered),
// receivers over HTTP/1.1 and HTTP/2, and a dispatcher allowed to reach
// them.
type fuzzHarness struct {
	h               *heraldtest.Herald
	client          *dispatch.Client
	plainURL, h2URL string
	caPEM           string
}

func newFuzzHarness(f *testing.F) *fuzzHarness {
	fh := &fuzzHarness{h: heraldtest.Start(f, heraldtest.Options{NoWork: true})}
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	f.Cleanup(plain.Close)
	h2 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	h2.EnableHTTP2 = true
	h2.StartTLS()
	f.Cleanup(h2.Close)
	fh.plainURL, fh.h2URL = plain.URL, h2.URL
	fh.caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h2.Certificate().Raw}))
	fh.client = dispatch.New(dispatch.Config{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	f.Cleanup(fh.client.CloseIdleConnections)
	return fh
}

// check posts body as a job; when it is accepted, checks that it was
// stored and that each of its tasks' requests can be sent.
func (fh *fuzzHarness) check(t *testing.T, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/v1/jobs", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+heraldtest.APIKey)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	fh.h.Routes.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("got %d, want no 5xx for %q: %s", rec.Code, body, rec.Body.Bytes())
	}
	if rec.Code != http.StatusCreated {
		return
	}
	var created struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatalf("201 without a job: %v: %s", err, rec.Body.Bytes())
	}
	var stored []byte
	if err := fh.h.Pool.QueryRow(context.Background(), "SELECT tasks FROM jobs WHERE id = $1", created.ID).Scan(&stored); err != nil {
		t.Fatalf("job %s not stored: %v", created.ID, err)
	}
	var tasks []jobspec.Task
	if err := json.Unmarshal(stored, &tasks); err != nil {
		t.Fatalf("stored tasks do not decode: %v: %s", err, stored)
	}
	results := make(map[string]taskref.Result, len(tasks))
	for i := range tasks {
		results[tasks[i].ID] = taskref.Result{Status: 200, Body: json.RawMessage(`{"token": "t/1 ?#", "items": [1, {"k": "v"}]}`)}
	}
	for i := range tasks {
		fh.checkSendable(t, &tasks[i], results)
	}
}

// checkSendable builds task's request as a delivery does (references
// filled in from results, task headers, then herald's) and sends it to
// the receiver that speaks its scheme.
func (fh *fuzzHarness) checkSendable(t *testing.T, task *jobspec.Task, results map[string]taskref.Result) {
	t.Helper()
	r, err := task.Request.Render(results)
	var refErr *taskref.RefError
	if errors.As(err, &refErr) {
		return // a reference this result does not resolve: the task fails at run time, with that error
	}
	if err != nil {
		t.Fatalf("task %s: request does not render: %v", task.ID, err)
	}
	body, contentType := r.BodyBytes()
	header := make(http.Header, len(r.Headers)+8)
	for k, v := range r.Headers {
		header.Set(k, v)
	}
	if contentType != "" && header.Get("Content-Type") == "" {
		header.Set("Content-Type", contentType)
	}
	header["Webhook-Id"] = []string{"msg_0123456789abcdef0123456789abcdef"}
	header["Webhook-Timestamp"] = []string{strconv.FormatInt(time.Now().Unix(), 10)}
	header["Webhook-Signature"] = []string{"v1,c2lnbmF0dXJl"}
	header["Herald-Task"] = []string{task.ID}
	header["Herald-Attempt"] = []string{"1"}
	header["Traceparent"] = []string{"00-0123456789abcdef0123456789abcdef-0123456789abcdef-00"}
	dr := dispatch.Request{Method: r.Method, URL: r.URL, Header: header, Body: body, Timeout: r.Timeout.Std(), TLS: r.TLS.Dispatch()}
	if err := dispatch.CheckRequest(dr); err != nil {
		t.Fatalf("task %s validated but its request cannot be sent: %v (%+v)", task.ID, err, dr)
	}
	if _, err := http.NewRequest(dr.Method, dr.URL, nil); err != nil {
		t.Fatalf("task %s: http.NewRequest refuses it: %v", task.ID, err)
	}

	u, err := url.Parse(dr.URL)
	if err != nil {
		t.Fatalf("task %s: URL does not parse: %v", task.ID, err)
	}
	to := fh.plainURL
	dr.TLS = nil
	if u.Scheme == "https" {
		to, dr.TLS = fh.h2URL, &dispatch.TLS{CACertificates: fh.caPEM}
	}
	u.Host = strings.TrimPrefix(strings.TrimPrefix(to, "http://"), "https://")
	dr.URL, dr.Timeout = u.String(), 10*time.Second
	res := fh.client.Do(context.Background(), dr)
	if res.Outcome != dispatch.Success {
		t.Fatalf("task %s: sent to the receiver: got %v (%v), want success (%+v)", task.ID, res.Outcome, res.Err, dr)
	}
}
