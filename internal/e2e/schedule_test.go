package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/jobs"
)

type scheduledJob struct {
	ID            string      `json:"id"`
	NextFireAt    *time.Time  `json:"next_fire_at"`
	NextFireTimes []time.Time `json:"next_fire_times"`
	MissedTicks   int         `json:"missed_ticks"`
	SkippedTicks  int         `json:"skipped_ticks"`
	Paused        bool        `json:"paused"`
}

// recurringJob registers a job on h calling url on schedule, with options
// (misfire, overlap, ...) merged in.
func recurringJob(t *testing.T, h *heraldtest.Herald, schedule map[string]any, url string, options map[string]any) scheduledJob {
	t.Helper()
	body := map[string]any{
		"name":     t.Name(),
		"schedule": schedule,
		"tasks":    []any{map[string]any{"request": map[string]any{"url": url}, "retry": map[string]any{"max_attempts": 1}}},
	}
	for k, v := range options {
		body[k] = v
	}
	resp := h.Do(http.MethodPost, "/v1/jobs", body)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j scheduledJob
	resp.JSON(t, &j)
	return j
}

func getJob(t *testing.T, h *heraldtest.Herald, id string) scheduledJob {
	t.Helper()
	resp := h.Do(http.MethodGet, "/v1/jobs/"+id, nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	var j scheduledJob
	resp.JSON(t, &j)
	return j
}

type runRow struct {
	ScheduledFor time.Time
	State        string
}

// runsOf lists a job's runs, oldest tick first, straight from the database.
func runsOf(t *testing.T, h *heraldtest.Herald, jobID string) []runRow {
	t.Helper()
	rows, err := h.Pool.Query(context.Background(), "SELECT scheduled_for, state FROM runs WHERE job_id = $1 ORDER BY scheduled_for, id", jobID)
	require.NoError(t, err)
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		require.NoError(t, rows.Scan(&r.ScheduledFor, &r.State))
		r.ScheduledFor = r.ScheduledFor.UTC()
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func scheduledFor(t *testing.T, r heraldtest.Request) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, r.Header.Get("Herald-Scheduled-For"))
	require.NoError(t, err)
	return ts
}

func TestCronEverySecondFiresEverySecond(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	j := recurringJob(t, b.h, map[string]any{"cron": "* * * * * *"}, rc.URL, nil)
	require.Len(t, j.NextFireTimes, 5)
	for i := 1; i < 5; i++ {
		require.Equal(t, time.Second, j.NextFireTimes[i].Sub(j.NextFireTimes[i-1]))
	}

	heraldtest.Eventually(t, 15*time.Second, func() bool { return rc.Count() >= 4 }, "4 ticks did not arrive")
	reqs := rc.Requests()[:4]
	for i, r := range reqs {
		ts := scheduledFor(t, r)
		require.Equal(t, ts.Truncate(time.Second), ts, "Herald-Scheduled-For %v is not a whole second", ts)
		require.Equal(t, j.NextFireTimes[0].Add(time.Duration(i)*time.Second), ts, "tick %d", i)
		lateness := r.At.Sub(ts)
		require.True(t, lateness >= 0 && lateness < time.Second, "tick %d arrived %v after its time", i, lateness)
	}
}

func TestEveryIntervalCountsFromRegistration(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	before := time.Now()
	j := recurringJob(t, b.h, map[string]any{"every": "1500ms"}, rc.URL, nil)
	require.WithinDuration(t, before.Add(1500*time.Millisecond), *j.NextFireAt, time.Second)
	heraldtest.Eventually(t, 15*time.Second, func() bool { return rc.Count() >= 2 }, "2 ticks did not arrive")
	reqs := rc.Requests()
	require.Equal(t, 1500*time.Millisecond, scheduledFor(t, reqs[1]).Sub(scheduledFor(t, reqs[0])))
	require.True(t, scheduledFor(t, reqs[0]).Equal(*j.NextFireAt))
}

func TestThreeReplicasMakeOneRunPerTick(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	h1 := heraldtest.StartOn(t, pool, heraldtest.Options{})
	heraldtest.StartOn(t, pool, heraldtest.Options{})
	heraldtest.StartOn(t, pool, heraldtest.Options{})
	rc := heraldtest.NewReceiver(t, nil)

	var ids []string
	for range 3 {
		ids = append(ids, recurringJob(t, h1, map[string]any{"cron": "* * * * * *"}, rc.URL, nil).ID)
	}
	heraldtest.Eventually(t, 20*time.Second, func() bool { return rc.Count() >= 3*5 }, "ticks did not arrive")
	for _, id := range ids {
		require.Equal(t, http.StatusNoContent, h1.Do(http.MethodDelete, "/v1/jobs/"+id, nil).Status)
	}
	// Let deliveries of the last ticks finish before counting.
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var open int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM runs WHERE state = 'running'").Scan(&open))
		return open == 0
	}, "runs did not settle")

	perTick := map[string]int{}
	for _, r := range rc.Requests() {
		perTick[r.Header.Get("Herald-Job")+" "+r.Header.Get("Herald-Scheduled-For")]++
	}
	for tick, n := range perTick {
		require.Equal(t, 1, n, "tick %s delivered %d times", tick, n)
	}
	for _, id := range ids {
		runs := runsOf(t, h1, id)
		require.GreaterOrEqual(t, len(runs), 5)
		for i := 1; i < len(runs); i++ {
			require.Equal(t, time.Second, runs[i].ScheduledFor.Sub(runs[i-1].ScheduledFor), "job %s: ticks %v and %v", id, runs[i-1].ScheduledFor, runs[i].ScheduledFor)
		}
	}
}

// TestMisfirePolicies registers a per-second job while no herald works
// (downtime), lets ticks pass, then starts one and checks what ran.
func TestMisfirePolicies(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	for _, policy := range []string{"skip", "fire_once", "fire_all"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			pool := dbtest.New(t)
			down := heraldtest.StartOn(t, pool, heraldtest.Options{NoWork: true})
			rc := heraldtest.NewReceiver(t, nil)
			j := recurringJob(t, down, map[string]any{"every": "1s"}, rc.URL, map[string]any{"misfire": policy})
			// Downtime without waiting for it: the job was registered 3.5s
			// earlier, and three ticks passed while no herald worked.
			_, err := pool.Exec(context.Background(), `UPDATE jobs SET schedule_anchor = schedule_anchor - interval '3.5 seconds',
				next_fire_at = next_fire_at - interval '3.5 seconds', created_at = created_at - interval '3.5 seconds' WHERE id = $1`, j.ID)
			require.NoError(t, err)
			j.NextFireAt = ptrTime(j.NextFireAt.Add(-3500 * time.Millisecond))
			heraldtest.StartOn(t, pool, heraldtest.Options{MisfireGrace: grace})
			upAt := time.Now()

			// Wait for the first tick after the downtime to run normally.
			heraldtest.Eventually(t, 10*time.Second, func() bool {
				for _, r := range runsOf(t, down, j.ID) {
					if r.ScheduledFor.After(upAt) && r.State == "succeeded" {
						return true
					}
				}
				return false
			}, "no tick ran after the downtime")

			var missedRun []time.Time
			for _, r := range runsOf(t, down, j.ID) {
				if r.ScheduledFor.Before(upAt.Add(-grace)) {
					missedRun = append(missedRun, r.ScheduledFor)
				}
			}
			missed := getJob(t, down, j.ID).MissedTicks
			first := *j.NextFireAt
			switch policy {
			case "skip":
				require.Empty(t, missedRun, "missed ticks ran")
				require.GreaterOrEqual(t, missed, 3)
			case "fire_once":
				require.Len(t, missedRun, 1, "catch-up runs")
				// The latest missed tick: within a second before the cutoff.
				require.True(t, missedRun[0].After(upAt.Add(-grace-time.Second)), "catch-up run for %v, want the latest missed tick (before %v)", missedRun[0], upAt.Add(-grace))
				require.GreaterOrEqual(t, missed, 2)
			case "fire_all":
				require.GreaterOrEqual(t, len(missedRun), 3)
				for i, ts := range missedRun {
					require.Equal(t, first.Add(time.Duration(i)*time.Second), ts)
				}
				require.Zero(t, missed)
			}
		})
	}
}

// slowReceiver answers after hold and records the most requests it had in
// flight at once.
func slowReceiver(t *testing.T, hold time.Duration) (*heraldtest.Receiver, *atomic.Int32) {
	var inFlight, maxInFlight atomic.Int32
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(hold) // a slow device
		inFlight.Add(-1)
		w.WriteHeader(http.StatusOK)
	})
	return rc, &maxInFlight
}

func TestOverlapPolicies(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"allow", "skip", "queue"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			rc, maxInFlight := slowReceiver(t, 2500*time.Millisecond)
			j := recurringJob(t, b.h, map[string]any{"every": "1s"}, rc.URL, map[string]any{"overlap": policy})
			heraldtest.Eventually(t, 20*time.Second, func() bool {
				var done int
				for _, r := range runsOf(t, b.h, j.ID) {
					if r.State == "succeeded" {
						done++
					}
				}
				return done >= 2
			}, "two runs did not finish")
			require.Equal(t, http.StatusOK, b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/pause", nil).Status)

			states := map[string]int{}
			for _, r := range runsOf(t, b.h, j.ID) {
				states[r.State]++
			}
			switch policy {
			case "allow":
				require.GreaterOrEqual(t, maxInFlight.Load(), int32(2), "runs did not overlap")
				require.Zero(t, states["skipped"]+states["queued"])
			case "skip":
				require.Equal(t, int32(1), maxInFlight.Load(), "runs overlapped")
				require.Positive(t, states["skipped"], "states %v", states)
				require.Equal(t, states["skipped"], getJob(t, b.h, j.ID).SkippedTicks)
			case "queue":
				require.Equal(t, int32(1), maxInFlight.Load(), "runs overlapped")
				require.LessOrEqual(t, states["queued"], 1, "at most one run waits")
				require.Positive(t, states["skipped"], "ticks beyond the one waiting are skipped: states %v", states)
				// Each run started after the previous ended.
				reqs := rc.Requests()
				sort.Slice(reqs, func(i, k int) bool { return reqs[i].At.Before(reqs[k].At) })
				for i := 1; i < len(reqs); i++ {
					require.GreaterOrEqual(t, reqs[i].At.Sub(reqs[i-1].At), 2500*time.Millisecond)
				}
			}
		})
	}
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	b := &testBundle{h: heraldtest.Start(t, heraldtest.Options{MisfireGrace: grace})}
	rc := heraldtest.NewReceiver(t, nil)
	j := recurringJob(t, b.h, map[string]any{"every": "1s"}, rc.URL, map[string]any{"misfire": "fire_once"})
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() >= 1 }, "no tick before pausing")

	resp := b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/pause", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	var paused scheduledJob
	resp.JSON(t, &paused)
	require.True(t, paused.Paused)
	// Wait out a tick that may have been in flight at the pause.
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		for _, r := range runsOf(t, b.h, j.ID) {
			if r.State == "running" {
				return false
			}
		}
		return true
	}, "runs did not settle")
	countAtPause := rc.Count()
	time.Sleep(5 * time.Second) // ticks pass while paused, well beyond the misfire grace
	require.Equal(t, countAtPause, rc.Count(), "a paused job fired")

	resumedAt := time.Now()
	resp = b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/resume", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	// fire_once: one catch-up run for the latest missed tick, then normal ticks.
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() >= countAtPause+2 }, "no ticks after resume")
	var catchUp int
	for _, r := range rc.Requests()[countAtPause:] {
		if scheduledFor(t, r).Before(resumedAt.Add(-grace)) {
			catchUp++
		}
	}
	require.Equal(t, 1, catchUp, "catch-up runs after resume")
	require.GreaterOrEqual(t, getJob(t, b.h, j.ID).MissedTicks, 1)
}

func TestUpdateRearmsAndKeepsRunningDefinition(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release := make(chan struct{})
	rc := heraldtest.NewReceiver(t, func(n int, _ *heraldtest.Request, w http.ResponseWriter) {
		if n == 1 {
			<-release // the first run stays in flight across the update
		}
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() { close(release) })
	j := recurringJob(t, b.h, map[string]any{"cron": "0 0 * * *"}, rc.URL+"/v1", nil)
	require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() == 1 }, "first run did not start")

	resp := b.h.Do(http.MethodPut, "/v1/jobs/"+j.ID, map[string]any{
		"name":     "updated",
		"schedule": map[string]any{"every": "1s"},
		"tasks":    []any{map[string]any{"request": map[string]any{"url": rc.URL + "/v2"}}},
	})
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	var updated scheduledJob
	resp.JSON(t, &updated)
	require.WithinDuration(t, time.Now().Add(time.Second), *updated.NextFireAt, time.Second)

	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() >= 2 }, "updated schedule did not fire")
	require.Equal(t, "/v2", rc.Requests()[1].Path)
	require.Equal(t, "/v1", rc.Requests()[0].Path)
	var spec string
	require.NoError(t, b.h.Pool.QueryRow(context.Background(),
		"SELECT tr.spec::text FROM task_runs tr JOIN runs r ON r.id = tr.run_id WHERE r.job_id = $1 AND r.trigger = 'manual'", j.ID).Scan(&spec))
	require.Contains(t, spec, rc.URL+"/v1", "the run in progress keeps its definition")
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodPut, "/v1/jobs/00000000-0000-7000-8000-000000000000", map[string]any{
		"name": "x", "tasks": []any{map[string]any{"request": map[string]any{"url": rc.URL}}},
	}).Status)
}

func TestDeleteStopsTicksAndKeepsHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	j := recurringJob(t, b.h, map[string]any{"every": "1s"}, rc.URL, nil)
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() >= 1 }, "no tick")
	require.Equal(t, http.StatusNoContent, b.h.Do(http.MethodDelete, "/v1/jobs/"+j.ID, nil).Status)
	// No tick can fire any more: nothing of the job's is left in River's queue.
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		var open int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')").Scan(&open))
		return open == 0
	}, "the deleted job still has queued work")
	n := rc.Count()
	resp := b.h.Do(http.MethodGet, fmt.Sprintf("/v1/runs?job_id=%s", j.ID), nil)
	require.Equal(t, http.StatusOK, resp.Status)
	var page struct {
		Data []struct{ ID, State string }
	}
	resp.JSON(t, &page)
	succeeded := 0
	for _, r := range page.Data {
		switch r.State {
		case "succeeded":
			succeeded++
		case "cancelled": // a tick prepared ahead of its time (FireLead), cancelled by the delete
		default:
			t.Errorf("run %s is %s after the delete", r.ID, r.State)
		}
	}
	require.Equal(t, n, succeeded, "runs of the deleted job are kept")
}

// stagedDelivery waits for the test's one delivery to be staged (running in
// a worker that waits for its time) and returns a count of the deliveries in
// a River state.
func stagedDelivery(t *testing.T, b *testBundle) func(state string) int {
	t.Helper()
	stagedJobs := func(state string) int {
		var n int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM river_job WHERE kind = 'herald.deliver' AND state = $1", state).Scan(&n))
		return n
	}
	heraldtest.Eventually(t, 5*time.Second, func() bool { return stagedJobs("running") == 1 }, "the delivery was not staged")
	return stagedJobs
}

// skipAfterRecheck skips a test whose cancel of a delivery staged for at
// came after the delivery's recheck (StagedRecheckLead before at): a machine
// that busy (the delivery is staged 250 ms before its time) leaves it to
// River's notification alone, which README allows to be late.
func skipAfterRecheck(t *testing.T, at time.Time) {
	t.Helper()
	if late := time.Since(at.Add(-jobs.StagedRecheckLead)); late >= 0 {
		t.Skipf("cancelled %v after the staged delivery's recheck: nothing to judge", late)
	}
}

// A tick's delivery is taken by a worker StageLead before its time and
// waits; pausing the job then cancels it through River, and nothing is sent.
func TestPauseCancelsStagedDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	at := time.Now().Add(3 * time.Second).UTC().Truncate(time.Millisecond)
	j := recurringJob(t, b.h, map[string]any{"at": at.Format(time.RFC3339Nano)}, rc.URL, nil)

	stagedJobs := stagedDelivery(t, b)
	require.Equal(t, http.StatusOK, b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/pause", nil).Status)
	skipAfterRecheck(t, at)

	// River cancels a running job through a notification (seconds on a
	// loaded machine, or never if its listener is away); the delivery also
	// reads its task run 50 ms before its time. A delivery that had not begun
	// its attempt when the pause committed finds its task run cancelled and
	// ends completed, with nothing sent.
	heraldtest.Eventually(t, 15*time.Second, func() bool { return stagedJobs("cancelled")+stagedJobs("completed") == 1 }, "the staged delivery did not end")
	time.Sleep(time.Until(at.Add(500 * time.Millisecond))) // past its time: it would have arrived by now
	require.Zero(t, rc.Count(), "a paused job's staged delivery was sent")
	runs := runsOf(t, b.h, j.ID)
	require.Len(t, runs, 1)
	require.Equal(t, "cancelled", runs[0].State)
}

// River's cancellation of a waiting delivery is a notification that can come
// late or never (its listener reconnecting). The run cancelled without it,
// straight in the database: the delivery reads its task run again before
// its time (StagedRecheckLead) and sends nothing.
func TestStagedDeliveryRereadsItsTaskRunAfterTheWait(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	at := time.Now().Add(3 * time.Second).UTC().Truncate(time.Millisecond)
	j := recurringJob(t, b.h, map[string]any{"at": at.Format(time.RFC3339Nano)}, rc.URL, nil)

	stagedJobs := stagedDelivery(t, b)
	_, err := b.h.Pool.Exec(context.Background(), `
WITH r AS (UPDATE runs SET state = 'cancelled', finished_at = now() WHERE job_id = $1 RETURNING id)
UPDATE task_runs SET state = 'cancelled', finished_at = now() WHERE run_id IN (SELECT id FROM r)`, j.ID)
	require.NoError(t, err)
	skipAfterRecheck(t, at)

	// Cancelled when its wait ends; completed if the cancellation came
	// before its attempt began (it found its task run finished).
	heraldtest.Eventually(t, 10*time.Second, func() bool { return stagedJobs("cancelled")+stagedJobs("completed") == 1 }, "the staged delivery did not end")
	time.Sleep(time.Until(at.Add(500 * time.Millisecond)))
	require.Zero(t, rc.Count(), "a cancelled run's staged delivery was sent")
}

// More jobs are due than one claim takes: two replicas, each claiming 7 at a
// time, go on claiming until none is left, and every tick still runs once.
func TestClaimsInBatchesSmallerThanDue(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	small := heraldtest.Options{Jobs: func(c *jobs.Config) { c.FireBatch = 7 }}
	h1 := heraldtest.StartOn(t, pool, small)
	heraldtest.StartOn(t, pool, small)
	rc := heraldtest.NewReceiver(t, nil)

	const n = 40
	// All registered before the claim horizon (FireLead) reaches them, so
	// that they become due together.
	at := time.Now().Add(4 * time.Second).UTC().Truncate(time.Second)
	var ids []string
	for range n {
		ids = append(ids, recurringJob(t, h1, map[string]any{"at": at.Format(time.RFC3339)}, rc.URL, nil).ID)
	}
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() >= n }, "not every job fired")
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		var open int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM runs WHERE state = 'running'").Scan(&open))
		return open == 0
	}, "runs did not settle")
	require.Equal(t, n, rc.Count(), "deliveries")
	seen := map[string]bool{}
	for _, r := range rc.Requests() {
		seen[r.Header.Get("Herald-Job")] = true
		require.Equal(t, at, scheduledFor(t, r))
	}
	require.Len(t, seen, n)
	for _, id := range ids {
		require.Len(t, runsOf(t, h1, id), 1, "job %s", id)
		require.Nil(t, getJob(t, h1, id).NextFireAt, "a one-off job has no next tick")
	}
}

// A job whose tick cannot start (its stored definition no longer decodes)
// loses that tick alone: the jobs claimed with it fire as usual.
func TestBrokenJobDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	every := map[string]any{"cron": "* * * * * *"}
	// overlap=skip sends both through the path that starts one tick at a
	// time, at its time, in the same claim.
	skip := map[string]any{"overlap": "skip"}
	healthy := recurringJob(t, b.h, every, rc.URL, skip)
	broken := recurringJob(t, b.h, every, rc.URL, skip)
	_, err := b.h.Pool.Exec(context.Background(), `UPDATE jobs SET tasks = '{"not": "a list"}' WHERE id = $1`, broken.ID)
	require.NoError(t, err)

	n := rc.Count()
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() >= n+3 }, "the healthy job stopped firing")
	for _, r := range rc.Requests() {
		require.Equal(t, healthy.ID, r.Header.Get("Herald-Job"), "only the healthy job's ticks can arrive")
	}
	require.Empty(t, runsOf(t, b.h, broken.ID), "a tick that could not start left no run")
	var next time.Time
	require.NoError(t, b.h.Pool.QueryRow(context.Background(), "SELECT next_fire_at FROM jobs WHERE id = $1", broken.ID).Scan(&next))
	require.WithinDuration(t, time.Now(), next, 3*time.Second, "the broken job's schedule moves on")
}

func ptrTime(t time.Time) *time.Time { return &t }
