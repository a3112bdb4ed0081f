package jobs

import (
	"context"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

func spanContext(t *testing.T, traceID, spanID string) trace.SpanContext {
	t.Helper()
	tid, err := trace.TraceIDFromHex(traceID)
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex(spanID)
	require.NoError(t, err)
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true})
}

// A delivery's metadata carries its run's span and the attempt it follows
// from, and reads back as written; the deliveries an attempt releases stay
// under the same run's span, following from that attempt.
func TestDeliveryTraceMetadata(t *testing.T) {
	t.Parallel()
	run := spanContext(t, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
	attempt := spanContext(t, "0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7")
	for _, tc := range []struct {
		name string
		in   deliveryTrace
		want deliveryTrace
	}{
		{"no tracing", deliveryTrace{}, deliveryTrace{}},
		{"a run's first deliveries", deliveryTrace{run: run}, deliveryTrace{run: run}},
		{"released by an upstream attempt", deliveryTrace{run: run, follows: attempt}, deliveryTrace{run: run, follows: attempt}},
		{"following without a run is no trace", deliveryTrace{follows: attempt}, deliveryTrace{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			md := tc.in.metadata()
			if !tc.want.run.IsValid() {
				require.Nil(t, md)
			}
			require.Equal(t, tc.want, traceOf(md))
		})
	}

	// River's metadata: "{}" without a trace; its own keys (a snoozed
	// job's count, a number) beside one.
	require.Equal(t, deliveryTrace{}, traceOf([]byte(`{}`)))
	require.Equal(t, deliveryTrace{}, traceOf([]byte(`{"snoozes": 1}`)))
	require.Equal(t, deliveryTrace{run: run}, traceOf([]byte(`{"snoozes": 2, "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}`)))

	// What an attempt of the run releases: the same run, following from it.
	md := traceMetadata(run)
	ctx := trace.ContextWithSpanContext(context.Background(), attempt)
	require.Equal(t, deliveryTrace{run: run, follows: attempt}, releasedBy(ctx, md))

	// The middleware makes the run's span the parent of the work.
	var parent trace.SpanContext
	require.NoError(t, (&runTraceMiddleware{}).Work(context.Background(), &rivertype.JobRow{Metadata: md}, func(ctx context.Context) error {
		parent = trace.SpanContextFromContext(ctx)
		return nil
	}))
	require.Equal(t, run, parent)
}
