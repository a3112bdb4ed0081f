package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/store"
)

// Traces. otelriver gives each River job an insert and a work span (the
// work span of a delivery is its attempt), otelhttp the outgoing request's
// span and the traceparent header the receiver gets. herald adds the run:
// a span where a run starts (a child of the API request that triggered it,
// or a root for a tick), whose context goes into the River metadata of the
// run's first deliveries (otelriver's own propagation would put its
// insert span there, one for a whole batch of runs), and the work span
// links to it; a delivery released by a finished task links to that task's
// attempt.

// tracerName names herald's own spans' instrumentation scope.
const tracerName = "github.com/herald-sched/herald/jobs"

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

// traceMetadata is River job metadata carrying sc as W3C trace context, the
// way otelriver reads it when the job is worked; nil when sc is not valid.
func traceMetadata(sc trace.SpanContext) []byte {
	if !sc.IsValid() {
		return nil
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	b, err := json.Marshal(carrier)
	if err != nil {
		return nil
	}
	return b
}

// describeAttempt adds the delivery's identity, and a link to the span
// that started it (traceMetadata in the job's metadata), to its attempt's
// span: the work span otelriver started.
func describeAttempt(ctx context.Context, metadata []byte, tr *store.BeginAttemptsRow, attempt int) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	var carrier propagation.MapCarrier
	if json.Unmarshal(metadata, &carrier) == nil {
		from := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
		if from.IsValid() {
			span.AddLink(trace.Link{SpanContext: from})
		}
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
