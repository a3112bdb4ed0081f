package views

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func atPtr(ms int) *time.Time { t := at(ms); return &t }

// bars sums up a row: each bar's attempt, outcome and parts' kinds.
func bars(r TimelineRow) []string {
	var out []string
	for _, b := range r.Bars {
		s := b.Outcome + ":"
		for _, p := range b.Parts {
			s += " " + p.Kind
		}
		out = append(out, s)
	}
	return out
}

func TestBuildTimeline(t *testing.T) {
	t.Parallel()
	run := RunSummary{CreatedAt: at(0), FinishedAt: atPtr(10_000)}
	for _, tc := range []struct {
		name  string
		run   RunSummary
		task  TaskRow
		now   time.Time
		want  []string
		parts [][2]float64 // each part's left and width, in order
	}{
		{
			name: "one attempt after its dependencies",
			run:  run,
			task: TaskRow{State: "succeeded", ReadyAt: atPtr(1000), Attempts: []AttemptRow{
				{Attempt: 1, StartedAt: at(2000), DurationMs: 500, Outcome: "succeeded"},
			}},
			want:  []string{"succeeded: queued sending"},
			parts: [][2]float64{{10, 10}, {20, 5}},
		},
		{
			name: "retried twice: three bars",
			run:  run,
			task: TaskRow{State: "succeeded", ReadyAt: atPtr(0), Attempts: []AttemptRow{
				{Attempt: 1, StartedAt: at(0), DurationMs: 1000, Outcome: "retrying", NextRetry: atPtr(2000)},
				{Attempt: 2, StartedAt: at(2500), DurationMs: 500, Outcome: "retrying", NextRetry: atPtr(5000)},
				{Attempt: 3, StartedAt: at(5000), DurationMs: 1000, Outcome: "succeeded"},
			}},
			want:  []string{"retrying: sending retry", "retrying: queued sending retry", "succeeded: sending"},
			parts: [][2]float64{{0, 10}, {10, 10}, {20, 5}, {25, 5}, {30, 20}, {50, 10}},
		},
		{
			name: "on its way",
			run:  RunSummary{CreatedAt: at(0)},
			now:  at(4000),
			task: TaskRow{State: "running", StartedAt: atPtr(1000), CurrentAttempt: 1, ReadyAt: atPtr(0)},
			want: []string{"running: sending"},
		},
		{
			name: "waiting for its retry, the axis ends now",
			run:  RunSummary{CreatedAt: at(0)},
			now:  at(2000),
			task: TaskRow{State: "retrying", CurrentAttempt: 1, Attempts: []AttemptRow{
				{Attempt: 1, StartedAt: at(0), DurationMs: 1000, Outcome: "retrying", NextRetry: atPtr(60_000)},
			}},
			want:  []string{"retrying: sending retry"},
			parts: [][2]float64{{0, 50}, {50, 50}},
		},
		{
			name: "queued",
			run:  RunSummary{CreatedAt: at(0)},
			now:  at(2000),
			task: TaskRow{State: "pending", ReadyAt: atPtr(1000)},
			want: []string{"queued: queued"},
		},
		{
			name: "waiting for its dependencies",
			run:  RunSummary{CreatedAt: at(0)},
			now:  at(2000),
			task: TaskRow{State: "waiting"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tl := BuildTimeline(tc.run, []TaskRow{tc.task}, tc.now)
			require.Len(t, tl.Rows, 1)
			got := bars(tl.Rows[0])
			require.Equal(t, tc.want, got, "got %v, want %v", got, tc.want)
			var parts [][2]float64
			for _, b := range tl.Rows[0].Bars {
				for _, p := range b.Parts {
					require.True(t, p.Left >= 0 && p.Width >= 0 && p.Left+p.Width <= 100+1e-9, "part %v off the axis", p)
					parts = append(parts, [2]float64{p.Left, p.Width})
				}
			}
			if tc.parts != nil {
				require.InDeltaSlice(t, flatten(tc.parts), flatten(parts), 1e-9, "got %v, want %v", parts, tc.parts)
			}
		})
	}
}

func flatten(p [][2]float64) []float64 {
	var out []float64
	for _, x := range p {
		out = append(out, x[0], x[1])
	}
	return out
}

// The axis is marked at round steps, from 0 to the run's span.
func TestTimelineTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		span time.Duration
		want []string
	}{
		{"seconds", 3200 * time.Millisecond, []string{"0", "500 ms", "1 s", "1.5 s", "2 s", "2.5 s", "3 s"}},
		{"minutes", 3*time.Minute + 4*time.Second, []string{"0", "30 s", "1 min", "1 min 30 s", "2 min", "2 min 30 s", "3 min"}},
		{"milliseconds", 12 * time.Millisecond, []string{"0", "2 ms", "4 ms", "6 ms", "8 ms", "10 ms", "12 ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			end := t0.Add(tc.span)
			tl := BuildTimeline(RunSummary{CreatedAt: t0, FinishedAt: &end}, nil, end)
			var got []string
			for _, tick := range tl.Ticks {
				got = append(got, tick.Label)
			}
			require.Equal(t, tc.want, got, "got %v, want %v", got, tc.want)
		})
	}
}
