package e2e_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// One trace per run: a DAG run (a, then flaky, which fails twice before it
// succeeds, then c) triggered by a traced client through one of two
// replicas sharing a database. The API request continues the client's
// trace, the run's span is its child, and every attempt of every task
// (River's work span, on whichever replica worked it) is a child of the
// run's span, in the client's trace; a task's first attempt links to the
// upstream attempt that released it; each webhook carries the trace context
// of its outgoing request's span, a child of its attempt.
func TestOneTracePerRun(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := heraldtest.Start(t, heraldtest.Options{TracerProvider: tp})
	heraldtest.StartOn(t, h.Pool, heraldtest.Options{TracerProvider: tp}) // a second replica
	var flaky atomic.Int32
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/flaky" && flaky.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})

	resp := h.Do(http.MethodPost, "/v1/jobs", map[string]any{
		"name": t.Name(),
		"tasks": []any{
			map[string]any{"id": "a", "request": map[string]any{"url": rc.URL + "/a"}},
			map[string]any{"id": "flaky", "depends_on": []string{"a"}, "request": map[string]any{"url": rc.URL + "/flaky"},
				"retry": map[string]any{"max_attempts": 3, "initial_interval": "100ms", "max_interval": "200ms"}},
			map[string]any{"id": "c", "depends_on": []string{"flaky"}, "request": map[string]any{"url": rc.URL + "/c"}},
		},
	})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID string }
	resp.JSON(t, &j)

	// The caller's own trace.
	caller, callerSpan := tp.Tracer("test").Start(context.Background(), "caller")
	header := http.Header{"Authorization": {"Bearer " + heraldtest.APIKey}}
	propagation.TraceContext{}.Inject(caller, propagation.HeaderCarrier(header))
	resp = h.DoWithHeader(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil, header)
	callerSpan.End()
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	var run struct{ ID string }
	resp.JSON(t, &run)
	r := waitRun(t, h, run.ID, 20*time.Second)
	require.Equal(t, "succeeded", r.State)

	byName := func(name string) []sdktrace.ReadOnlySpan {
		var out []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.Name() == name {
				out = append(out, s)
			}
		}
		return out
	}
	var works, requests []sdktrace.ReadOnlySpan
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		works, requests = byName("river.work/herald.deliver"), byName("webhook POST")
		return len(works) == 5 && len(requests) == 5
	}, "attempt and request spans: a, flaky three times, c")

	traceID := callerSpan.SpanContext().TraceID()
	api := byName("POST /v1/jobs/{jobID}/runs")
	require.Len(t, api, 1)
	require.Equal(t, traceID, api[0].SpanContext().TraceID(), "the API request continues the caller's trace")
	runs := byName("herald.run manual")
	require.Len(t, runs, 1)
	runSpan := runs[0].SpanContext()
	require.Equal(t, traceID, runSpan.TraceID())
	require.Equal(t, api[0].SpanContext().SpanID(), runs[0].Parent().SpanID(), "the run is a child of the API request")

	attempts := map[string][]sdktrace.ReadOnlySpan{}
	for _, w := range works {
		require.Equal(t, traceID, w.SpanContext().TraceID(), "every attempt is in the caller's trace")
		require.Equal(t, runSpan.SpanID(), w.Parent().SpanID(), "every attempt is a child of the run's span")
		for _, kv := range w.Attributes() {
			if kv.Key == "herald.task_id" {
				attempts[kv.Value.AsString()] = append(attempts[kv.Value.AsString()], w)
			}
		}
	}
	require.Len(t, attempts["a"], 1)
	require.Len(t, attempts["flaky"], 3)
	require.Len(t, attempts["c"], 1)
	linked := func(s sdktrace.ReadOnlySpan, to trace.SpanContext) bool {
		for _, l := range s.Links() {
			if l.SpanContext.SpanID() == to.SpanID() && l.SpanContext.TraceID() == to.TraceID() {
				return true
			}
		}
		return false
	}
	for _, f := range attempts["flaky"] {
		require.True(t, linked(f, attempts["a"][0].SpanContext()), "flaky's attempts link to a's, which released it")
	}
	var lastFlaky sdktrace.ReadOnlySpan
	for _, f := range attempts["flaky"] {
		if lastFlaky == nil || f.EndTime().After(lastFlaky.EndTime()) {
			lastFlaky = f
		}
	}
	require.True(t, linked(attempts["c"][0], lastFlaky.SpanContext()), "c's attempt links to flaky's last, which released it")

	// Each webhook carries its request span's context, a child of its attempt.
	attemptIDs := map[trace.SpanID]bool{}
	for _, w := range works {
		attemptIDs[w.SpanContext().SpanID()] = true
	}
	sent := map[trace.SpanID]bool{}
	for _, req := range rc.Requests() {
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(req.Header)))
		require.True(t, sc.IsValid(), "webhook %s has no traceparent", req.Path)
		require.Equal(t, traceID, sc.TraceID(), "webhook %s is in the run's trace", req.Path)
		sent[sc.SpanID()] = true
	}
	for _, s := range requests {
		require.True(t, attemptIDs[s.Parent().SpanID()], "request span %s has no attempt as parent", s.SpanContext().SpanID())
		require.True(t, sent[s.SpanContext().SpanID()], "request span %s is no webhook's traceparent", s.SpanContext().SpanID())
	}
}
