package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// A job kept by the triggers that read it is checked when it is triggered
// again: a change made since (on another replica, by the ticker, or
// through the API) fails the insert as a conflict, the batch runs again
// with the job read afresh, and the run follows the job as it is now; a
// job deleted since is not found.
func TestKeptJobsFollowChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	job := b.createJob(t, "kept", task("call"))
	trigger := func() (*store.Run, error) {
		var run *store.Run
		err := store.InTx(ctx, b.pool, func(tx pgx.Tx) error {
			runs, errs, err := TriggerRuns(ctx, tx, b.client, []Trigger{{JobID: job.ID, At: time.Now()}})
			if err != nil {
				return err
			}
			run = runs[0]
			return errs[0]
		})
		return run, err
	}
	url := func(runID uuid.UUID) string {
		var spec jobspec.Task
		require.NoError(t, json.Unmarshal(b.taskRuns(t, runID)["call"].Spec, &spec))
		return spec.Request.URL
	}
	change := func(sql string) {
		_, err := b.pool.Exec(ctx, sql, job.ID)
		require.NoError(t, err)
	}

	run, err := trigger()
	require.NoError(t, err)
	require.Equal(t, "https://device.example/call", url(run.ID))
	_, kept := b.client.kept.get(job.ID)
	require.True(t, kept, "a single-task job read by a trigger is kept")

	// Changed behind this replica's back, updated_at untouched.
	change(`UPDATE jobs SET tasks = '[{"id":"call","request":{"url":"https://changed.example/call"}}]' WHERE id = $1`)
	run, err = trigger()
	require.NoError(t, err)
	require.Equal(t, "https://changed.example/call", url(run.ID), "the run follows the job as it is now")

	// A write that leaves the definition as it was still counts as a
	// change (the ticker's next_fire_at): read again, same run.
	change(`UPDATE jobs SET next_fire_at = NULL WHERE id = $1`)
	run, err = trigger()
	require.NoError(t, err)
	require.Equal(t, "https://changed.example/call", url(run.ID))

	// Now a DAG: not single-task any more, started as a DAG's run.
	change(`UPDATE jobs SET tasks = '[{"id":"call","request":{"url":"https://device.example/call"}},{"id":"next","depends_on":["call"],"request":{"url":"https://device.example/next"}}]' WHERE id = $1`)
	run, err = trigger()
	require.NoError(t, err)
	require.Len(t, b.taskRuns(t, run.ID), 2)
	_, kept = b.client.kept.get(job.ID)
	require.False(t, kept, "a DAG job is not kept")

	// Single-task again, kept, then deleted.
	change(`UPDATE jobs SET tasks = '[{"id":"call","request":{"url":"https://device.example/call"}}]' WHERE id = $1`)
	_, err = trigger()
	require.NoError(t, err)
	change(`UPDATE jobs SET deleted_at = now() WHERE id = $1`)
	_, err = trigger()
	require.ErrorIs(t, err, ErrJobNotFound)
}

// herald_jobs_unchanged fails a statement, as a conflict, unless every job
// listed is at the version given and not deleted; a job may be listed
// twice, and an empty list passes.
func TestJobsUnchangedIsAConflictOtherwise(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := b.createJob(t, "versioned", task("call")).ID
	var version string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT xmin::text FROM jobs WHERE id = $1`, id).Scan(&version))

	check := func(ids []uuid.UUID, versions []string) error {
		var ok bool
		return b.pool.QueryRow(ctx, `SELECT herald_jobs_unchanged($1, $2)`, ids, versions).Scan(&ok)
	}
	for _, tc := range []struct {
		name     string
		ids      []uuid.UUID
		versions []string
		conflict bool
	}{
		{"none", nil, nil, false},
		{"as read", []uuid.UUID{id}, []string{version}, false},
		{"listed twice", []uuid.UUID{id, id}, []string{version, version}, false},
		{"another version", []uuid.UUID{id}, []string{"1"}, true},
		{"no such job", []uuid.UUID{uuid.New()}, []string{version}, true},
	} {
		err := check(tc.ids, tc.versions)
		if got := store.Conflict(err); got != tc.conflict {
			t.Errorf("%s: got conflict %v (%v), want %v", tc.name, got, err, tc.conflict)
		}
		if !tc.conflict {
			require.NoError(t, err, tc.name)
		}
	}
	_, err := b.pool.Exec(ctx, `UPDATE jobs SET deleted_at = now() WHERE id = $1`, id)
	require.NoError(t, err)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT xmin::text FROM jobs WHERE id = $1`, id).Scan(&version))
	require.True(t, store.Conflict(check([]uuid.UUID{id}, []string{version})), "a deleted job is not unchanged")
}
