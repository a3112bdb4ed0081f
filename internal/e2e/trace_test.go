package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// A traced run of a two-task DAG triggered by a traced client: the API
// request continues the client's trace, the run is its child, each attempt
// (River's work span) links to what started it (the run, then the parent
// task's attempt), and each webhook carries the trace context of its
// outgoing request's span.
func TestTracesFollowARun(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := heraldtest.Start(t, heraldtest.Options{TracerProvider: tp})
	rc := heraldtest.NewReceiver(t, nil)

	resp := h.Do(http.MethodPost, "/v1/jobs", map[string]any{
		"name": t.Name(),
		"tasks": []any{
			map[string]any{"id": "a", "request": map[string]any{"url": rc.URL + "/a"}},
			map[string]any{"id": "b", "depends_on": []string{"a"}, "request": map[string]any{"url": rc.URL + "/b"}},
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
	r := waitRun(t, h, run.ID, 10*time.Second)
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
		return len(works) == 2 && len(requests) == 2
	}, "attempt and request spans")

	api := byName("POST /v1/jobs/{jobID}/runs")
	require.Len(t, api, 1)
	require.Equal(t, callerSpan.SpanContext().TraceID(), api[0].SpanContext().TraceID(), "the API request continues the caller's trace")
	runs := byName("herald.run manual")
	require.Len(t, runs, 1)
	require.Equal(t, api[0].SpanContext().SpanID(), runs[0].Parent().SpanID(), "the run is a child of the API request")

	// Each attempt links to what started it: a to the run, b to a's attempt.
	attemptOf := map[string]sdktrace.ReadOnlySpan{}
	for _, w := range works {
		for _, kv := range w.Attributes() {
			if kv.Key == "herald.task_id" {
				attemptOf[kv.Value.AsString()] = w
			}
		}
	}
	require.Len(t, attemptOf, 2)
	linked := func(s sdktrace.ReadOnlySpan, to trace.SpanContext) bool {
		for _, l := range s.Links() {
			if l.SpanContext.SpanID() == to.SpanID() && l.SpanContext.TraceID() == to.TraceID() {
				return true
			}
		}
		return false
	}
	require.True(t, linked(attemptOf["a"], runs[0].SpanContext()), "a's attempt links to the run")
	require.True(t, linked(attemptOf["b"], attemptOf["a"].SpanContext()), "b's attempt links to a's")

	// Each webhook carries its request span's context, a child of its attempt.
	got := map[string]trace.SpanContext{}
	for _, req := range rc.Requests() {
		ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(req.Header))
		got[req.Path] = trace.SpanContextFromContext(ctx)
	}
	for _, s := range requests {
		var task string
		for id, w := range attemptOf {
			if s.Parent().SpanID() == w.SpanContext().SpanID() {
				task = id
			}
		}
		require.NotEmpty(t, task, "request span %s has no attempt as parent", s.SpanContext().SpanID())
		sc := got["/"+task]
		require.True(t, sc.IsValid(), "webhook /%s has no traceparent", task)
		require.Equal(t, s.SpanContext().TraceID(), sc.TraceID())
		require.Equal(t, s.SpanContext().SpanID(), sc.SpanID(), "webhook /%s: traceparent names its request's span", task)
	}
}
