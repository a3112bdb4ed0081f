package jobs

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// dueTimeHook stores jobs scheduled for the future as `available` with their
// future scheduled_at, instead of River's `scheduled`.
//
// River makes scheduled jobs available only on its leader's scheduler pass,
// every 5 seconds, which would make a tick up to 5 s late. River's fetch query
// already skips available jobs whose scheduled_at has not come
// (`scheduled_at <= now()`), so an available future job starts on the first
// fetch after it is due: within the queue's FetchPollInterval. Migration 0002
// adds the partial index that keeps that fetch fast with many waiting jobs.
// One row per job and FOR UPDATE SKIP LOCKED in the fetch keep it to one
// execution however many replicas poll.
func dueTimeHook() rivertype.Hook {
	return river.HookInsertBeginFunc(func(_ context.Context, params *rivertype.JobInsertParams) error {
		if params.State == rivertype.JobStateScheduled {
			params.State = rivertype.JobStateAvailable
		}
		return nil
	})
}
