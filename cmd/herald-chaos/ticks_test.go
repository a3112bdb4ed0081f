package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCronTicks(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 1, 2, 3, 4, 5, 300e6, time.UTC)
	// Audited window: 03:04:07 to 03:04:15 (the pause at 03:04:17.5 minus
	// two seconds), 9 ticks.
	pausedAt := created.Add(12200 * time.Millisecond)
	second := func(s int) time.Time { return time.Date(2026, 1, 2, 3, 4, s, 0, time.UTC) }
	cases := []struct {
		name    string
		runs    []time.Time
		missed  int64
		receipt []arrival
		want    tickCount
	}{
		{
			name: "every tick ran",
			runs: []time.Time{second(6), second(7), second(8), second(9), second(10), second(11), second(12), second(13), second(14), second(15), second(16)},
			want: tickCount{Expected: 9, Run: 9},
		},
		{
			name:   "an outage: ticks missed by policy",
			runs:   []time.Time{second(7), second(8), second(14), second(15)},
			missed: 5,
			want:   tickCount{Expected: 9, Run: 4, Missed: 5},
		},
		{
			name:   "a tick neither run nor counted",
			runs:   []time.Time{second(7), second(8), second(14), second(15)},
			missed: 4,
			want:   tickCount{Expected: 9, Run: 4, Missed: 4, Lost: 1},
		},
		{
			name: "a tick off the schedule",
			runs: []time.Time{second(7), second(8), second(9), second(10), second(11), second(12), second(13), second(14), second(15), second(9).Add(time.Millisecond)},
			want: tickCount{Expected: 9, Run: 9, Doubled: 1},
		},
		{
			name: "a tick delivered from two runs",
			runs: []time.Time{second(7), second(8), second(9), second(10), second(11), second(12), second(13), second(14), second(15)},
			receipt: []arrival{
				{Job: "j", Run: "r1", Task: "tick", WebhookID: "msg_1", ScheduledFor: second(9).Format(time.RFC3339Nano)},
				{Job: "j", Run: "r2", Task: "tick", WebhookID: "msg_2", ScheduledFor: second(9).Format(time.RFC3339Nano)},
			},
			want: tickCount{Expected: 9, Run: 9, Doubled: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &history{jobs: map[string]jobRow{"j": {ID: "j", Kind: kindCron, CreatedAt: created, MissedTicks: tc.missed}}}
			for i, at := range tc.runs {
				h.runs = append(h.runs, runRow{ID: string(rune('a' + i)), JobID: "j", Trigger: "schedule", ScheduledFor: at})
			}
			l := newLedger()
			l.AddPause("j", outcome{At: pausedAt, Acked: true})
			a := newAuditor(h, l, tc.receipt)
			require.Equal(t, tc.want, a.cronTicks(a.doubledAtReceiver()))
		})
	}
}
