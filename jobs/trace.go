package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/store"
)

// Traces: one trace per run. herald starts a span where a run starts
// (herald.run manual|schedule|retry): a child of the API request that
// triggered it, continuing the caller's traceparent, or a root for a tick.
// Its context goes into the River metadata of each of the run's deliveries
// (traceparent, the key otelriver uses; otelriver's own propagation would
// put its insert span there, one for a whole batch of runs), and a delivery
// released by a finished DAG task carries it on, with that task's attempt
// beside it (herald_follows). When a delivery is worked, on whichever
// replica and at whichever attempt, runTraceMiddleware makes the run's span
// the parent of otelriver's work span (river.work/herald.deliver, the
// attempt's span), which links to the attempt it follows from; otelhttp's
// span of the outgoing request is the attempt's child, and its context is
// the webhook's traceparent. So every attempt of a run, retries and
// reclaimed deliveries included, is in the run's trace, under its span.

// tracerName names herald's own spans' instrumentation scope.
const tracerName = "github.com/herald-sched/herald/jobs"

// retrySpan names the span of a run's retry (herald.run retry).
const retrySpan = "retry"

// followsKey is the metadata key of the span a delivery follows from: the
// attempt of the upstream task that released it.
const followsKey = "herald_follows"

// startRunSpan starts the span of a run starting now.
func startRunSpan(ctx context.Context, tp trace.TracerProvider, jobID, runID uuid.UUID, trigger string, scheduledFor time.Time) (context.Context, trace.Span) {
	if tp == nil {
		return ctx, trace.SpanFromContext(context.Background()) // a no-op span
	}
	return tp.Tracer(tracerName).Start(ctx, "herald.run "+trigger, trace.WithAttributes(
		attribute.String("herald.job_id", jobID.String()),
		attribute.String("herald.run_id", runID.String()),
		attribute.String("herald.trigger", trigger),
		attribute.String("herald.scheduled_for", scheduledFor.UTC().Format(time.RFC3339Nano)),
	))
}

// deliveryTrace is where a delivery's attempts go in their run's trace:
// under the run's span, following from an upstream task's attempt (a
// link), if any.
type deliveryTrace struct {
	run, follows trace.SpanContext
}

// traceMetadata is River job metadata making the attempts of a delivery
// children of the run's span sc; nil when sc is not valid (no tracing).
func traceMetadata(sc trace.SpanContext) []byte {
	return deliveryTrace{run: sc}.metadata()
}

// metadata is the River job metadata of a delivery with this trace: the
// run's span as W3C trace context, as otelriver reads it, and the span it
// follows from under followsKey; nil when the run's span is not valid.
func (d deliveryTrace) metadata() []byte {
	if !d.run.IsValid() {
		return nil
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), d.run), carrier)
	if d.follows.IsValid() {
		follows := propagation.MapCarrier{}
		propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), d.follows), follows)
		carrier[followsKey] = follows.Get("traceparent")
	}
	b, err := json.Marshal(carrier)
	if err != nil {
		return nil
	}
	return b
}

// traceparentKey is the metadata key of a delivery's run span, as
// metadata writes it (and otelriver).
var traceparentKey = []byte(`"traceparent"`)

// traceOf reads a delivery's trace from its River metadata, beside River's
// own keys (a snoozed job's "snoozes", a number). Metadata without a
// traceparent key (River's "{}" when herald does not trace) is not
// decoded: a delivery reads its trace three times (runTraceMiddleware,
// releasedBy, describeAttempt), and decoding "{}" each time was 4% of
// herald's CPU in the benchmark's delivery window (pprof).
func traceOf(metadata []byte) deliveryTrace {
	if !bytes.Contains(metadata, traceparentKey) {
		return deliveryTrace{}
	}
	var md struct {
		Traceparent string `json:"traceparent"`
		Tracestate  string `json:"tracestate"`
		Follows     string `json:"herald_follows"`
	}
	if json.Unmarshal(metadata, &md) != nil {
		return deliveryTrace{}
	}
	d := deliveryTrace{run: extractSpanContext(propagation.MapCarrier{"traceparent": md.Traceparent, "tracestate": md.Tracestate})}
	if md.Follows != "" {
		d.follows = extractSpanContext(propagation.MapCarrier{"traceparent": md.Follows})
	}
	return d
}

func extractSpanContext(carrier propagation.MapCarrier) trace.SpanContext {
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
}

// releasedBy is the trace of the deliveries that the attempt working in
// ctx (a delivery with metadata) releases: the same run, following from
// that attempt.
func releasedBy(ctx context.Context, metadata []byte) deliveryTrace {
	return deliveryTrace{run: traceOf(metadata).run, follows: trace.SpanContextFromContext(ctx)}
}

// runTraceMiddleware makes the run's span (in the delivery's metadata) the
// parent of what works the delivery: placed before otelriver's middleware,
// it makes the work span, the attempt's, a child of the run's span, on any
// replica and at every attempt.
type runTraceMiddleware struct{ river.MiddlewareDefaults }

// Work runs doInner with the run's span, a remote span, as ctx's parent.
func (*runTraceMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if run := traceOf(job.Metadata).run; run.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, run)
	}
	return doInner(ctx)
}

// describeAttempt adds the delivery's identity, and a link to the attempt
// it follows from (a DAG parent's), to its attempt's span: the work span
// otelriver started.
func describeAttempt(ctx context.Context, metadata []byte, tr *store.BeginAttemptsRow, attempt int) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if follows := traceOf(metadata).follows; follows.IsValid() {
		span.AddLink(trace.Link{SpanContext: follows})
	}
	span.SetAttributes(
		attribute.String("herald.job_id", tr.JobID.String()),
		attribute.String("herald.run_id", tr.RunID.String()),
		attribute.String("herald.task_id", tr.TaskID),
		attribute.Int("herald.attempt", attempt),
		attribute.String("herald.webhook_id", WebhookID(tr.ID)),
	)
}

// traceparent is the W3C trace context a webhook carries when herald does
// not trace: the run's id as trace id, so that the receiver can tell the
// requests of one run together, a random parent id, not sampled. When herald
// traces, the outgoing request's span replaces it (otelhttp).
func traceparent(runID uuid.UUID) string {
	var parent [8]byte
	for parent == [8]byte{} {
		_, _ = rand.Read(parent[:])
	}
	return "00-" + hex.EncodeToString(runID[:]) + "-" + hex.EncodeToString(parent[:]) + "-00"
}
