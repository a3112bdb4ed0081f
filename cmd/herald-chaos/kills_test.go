package main

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestKills(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	killedAt := start.Add(12 * time.Second)
	held := []heldDelivery{{TaskRunID: uuid.New()}, {TaskRunID: uuid.New()}}
	at := func(id uuid.UUID, d time.Duration, cut bool) arrival {
		return arrival{WebhookID: webhookID(id.String()), At: killedAt.Add(d), Done: killedAt.Add(d), Cut: cut}
	}
	cases := []struct {
		name     string
		arrivals []arrival
		want     row
	}{
		{
			name: "both redelivered",
			arrivals: []arrival{
				at(held[0].TaskRunID, -time.Second, false), // answered before the kill, not recorded
				at(held[0].TaskRunID, 4*time.Second, false),
				at(held[1].TaskRunID, -time.Second, true), // cut by the kill...
				at(held[1].TaskRunID, 0, true),
				at(held[1].TaskRunID, 3500*time.Millisecond, false), // ...and sent again
			},
			want: row{Value: "2 (1 on the wire) / 2 / 4s", Result: resultOK},
		},
		{
			name:     "one never arrived",
			arrivals: []arrival{at(held[0].TaskRunID, 3*time.Second, false), at(held[1].TaskRunID, -time.Second, false)},
			want:     row{Value: "2 (0 on the wire) / 1 / ∞ (1 never arrived)", Result: resultFail},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAuditor(&history{jobs: map[string]jobRow{}}, newLedger(), tc.arrivals)
			rows := a.kills([]killRecord{{Replica: 2, At: killedAt, Held: held}}, start)
			require.Len(t, rows, 1)
			require.Equal(t, "SIGKILL of replica 2 at +12.0s: deliveries held / delivered since / longest kill → arrival", rows[0].Check)
			require.Equal(t, tc.want.Value, rows[0].Value)
			require.Equal(t, tc.want.Result, rows[0].Result)
		})
	}
}
