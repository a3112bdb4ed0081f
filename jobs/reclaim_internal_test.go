package jobs

import (
	"github.com/herald-sched/herald/internal/state"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/store"
)

func TestRetakeContinuesTheReclaimedDelivery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	tr := uuid.Must(uuid.NewV7())
	tests := []struct {
		name      string
		args      DeliverArgs
		attempt   int16 // River's attempt of the held job
		taskRun   store.LoseAttemptsRow
		wantBase  int       // the new job's AttemptBase: its first attempt is this plus one
		wantSpent int       // attempts counted against max_attempts before it
		wantAt    time.Time // its ScheduledAt
	}{
		{
			name: "attempt lost mid-request", args: DeliverArgs{TaskRunID: tr}, attempt: 1,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 1, State: state.TaskRunning, Lost: true}, wantBase: 1, wantSpent: 0,
		},
		{
			name: "never begun (waiting for a slot)", args: DeliverArgs{TaskRunID: tr}, attempt: 1,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 0, State: state.TaskPending}, wantBase: 0, wantSpent: 0,
		},
		{
			name: "third River attempt lost after two retries", args: DeliverArgs{TaskRunID: tr}, attempt: 3,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 3, State: state.TaskRunning, Lost: true}, wantBase: 3, wantSpent: 2,
		},
		{
			name: "recorded, River's completion lost", args: DeliverArgs{TaskRunID: tr}, attempt: 2,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 2, State: state.TaskRetrying}, wantBase: 2, wantSpent: 2,
		},
		{
			name: "a run retried through the API, then reclaimed", args: DeliverArgs{TaskRunID: tr, AttemptBase: 5, Spent: 0}, attempt: 1,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 6, State: state.TaskRunning, Lost: true}, wantBase: 6, wantSpent: 0,
		},
		{
			name: "reclaimed twice", args: DeliverArgs{TaskRunID: tr, AttemptBase: 2, Spent: 1}, attempt: 2,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 4, State: state.TaskRunning, Lost: true}, wantBase: 4, wantSpent: 2,
		},
		{
			name: "staged, its time still ahead", args: DeliverArgs{TaskRunID: tr, NotBefore: now.Add(time.Second)}, attempt: 1,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 1, State: state.TaskRunning, Lost: true}, wantBase: 1,
			wantAt: now.Add(time.Second - StageLead),
		},
		{
			name: "staged, its time passed", args: DeliverArgs{TaskRunID: tr, NotBefore: now.Add(-time.Second)}, attempt: 1,
			taskRun: store.LoseAttemptsRow{ID: tr, Attempts: 1, State: state.TaskRunning, Lost: true}, wantBase: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := retake(tt.args, &store.RiverJob{Attempt: tt.attempt, MaxAttempts: 7}, tt.taskRun, now)
			got := p.Args.(DeliverArgs)
			if got.AttemptBase != tt.wantBase {
				t.Errorf("AttemptBase: got %d, want %d", got.AttemptBase, tt.wantBase)
			}
			if got.Spent != tt.wantSpent {
				t.Errorf("Spent: got %d, want %d", got.Spent, tt.wantSpent)
			}
			if !p.InsertOpts.ScheduledAt.Equal(tt.wantAt) {
				t.Errorf("ScheduledAt: got %v, want %v", p.InsertOpts.ScheduledAt, tt.wantAt)
			}
			if got.TaskRunID != tr || p.InsertOpts.MaxAttempts != 7 || p.InsertOpts.Queue != QueueDeliver {
				t.Errorf("got %+v %+v, want the same task run, max attempts and queue", got, p.InsertOpts)
			}
		})
	}
}
