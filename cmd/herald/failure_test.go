package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/pgembed"
)

// quickLiveness makes replicas heartbeat every 200ms and die after 1s of
// silence, so that failure tests take seconds.
var quickLiveness = []string{"--heartbeat-interval", "200ms", "--replica-timeout", "1s"}

// holdingReceiver answers the first request of each webhook-id only when
// the test ends (the request is on the wire when a replica dies), and any
// later one at once. arrived receives each first request.
func holdingReceiver(t *testing.T) (*heraldtest.Receiver, chan string) {
	t.Helper()
	release := make(chan struct{})
	arrived := make(chan string, 100)
	var mu sync.Mutex
	seen := map[string]bool{}
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		id := r.Header.Get("Webhook-Id")
		mu.Lock()
		first := !seen[id]
		seen[id] = true
		mu.Unlock()
		if first {
			arrived <- id
			<-release
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() { close(release) })
	return rc, arrived
}

// createOneOffs registers n jobs calling url after delay (a duration or an
// "at" time) through p, and returns their ids.
func createOneOffs(t *testing.T, p *process, n int, schedule map[string]any, url string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		code, body := p.call(t, http.MethodPost, "/v1/jobs", map[string]any{
			"name":     fmt.Sprintf("%s-%d", t.Name(), i),
			"schedule": schedule,
			"tasks":    []any{map[string]any{"request": map[string]any{"url": url, "timeout": "60s"}}},
		})
		require.Equal(t, http.StatusCreated, code, "body: %s", body)
		var j struct{ ID string }
		require.NoError(t, json.Unmarshal(body, &j))
		ids = append(ids, j.ID)
	}
	return ids
}

// waitFor takes n values from ch, or fails after within.
func waitFor(t *testing.T, ch <-chan string, n int, within time.Duration, what string) []string {
	t.Helper()
	var got []string
	deadline := time.After(within)
	for len(got) < n {
		select {
		case v := <-ch:
			got = append(got, v)
		case <-deadline:
			t.Fatalf("%s: %d of %d within %s", what, len(got), n, within)
		}
	}
	return got
}

// deliveriesByID counts the requests a receiver got per webhook-id.
func deliveriesByID(rc *heraldtest.Receiver) map[string]int {
	out := map[string]int{}
	for _, r := range rc.Requests() {
		out[r.Header.Get("Webhook-Id")]++
	}
	return out
}

// kill SIGKILLs the process and waits for it to exit.
func (p *process) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	<-p.exited
}

// A replica SIGKILLed with deliveries on the wire: a survivor declares it
// dead after --replica-timeout and delivers them again with the same
// webhook-id, attempt 2, the lost attempt recorded as such.
func TestKilledReplicasDeliveriesAreReclaimedInSeconds(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	rc, arrived := holdingReceiver(t)
	env := []string{"DATABASE_URL=" + dbURL}

	victim := startServe(t, env, quickLiveness...)
	const n = 5
	createOneOffs(t, victim, n, map[string]any{"delay": "0s"}, rc.URL)
	held := waitFor(t, arrived, n, 20*time.Second, "deliveries on the wire")
	survivor := startServe(t, env, quickLiveness...)

	victim.kill(t)
	killed := time.Now()
	heraldtest.Eventually(t, 30*time.Second, func() bool {
		byID := deliveriesByID(rc)
		for _, id := range held {
			if byID[id] < 2 {
				return false
			}
		}
		return true
	}, "the killed replica's deliveries were not delivered again\n%s", survivor.logs.String())
	t.Logf("kill to the last reclaimed delivery's arrival: %s (--replica-timeout 1s)", time.Since(killed).Round(time.Millisecond))

	for _, r := range rc.Requests() {
		if r.Header.Get("Herald-Attempt") == "2" {
			require.Contains(t, held, r.Header.Get("Webhook-Id"))
		}
	}
	var page struct{ Data []struct{ ID string } }
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		code, body := survivor.call(t, http.MethodGet, "/v1/runs?state=succeeded", nil)
		require.Equal(t, http.StatusOK, code)
		require.NoError(t, json.Unmarshal(body, &page))
		return len(page.Data) == n
	}, "the runs did not all succeed")
	code, body := survivor.call(t, http.MethodGet, "/v1/runs/"+page.Data[0].ID, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"outcome":"lost"`, "the lost attempt is shown")

	code, body = survivor.call(t, http.MethodGet, "/v1/replicas", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"state":"dead"`)
	require.Contains(t, string(body), fmt.Sprintf(`"reclaimed":%d`, n))
}

// The only replica, SIGKILLed and restarted at once, reclaims its
// predecessor's deliveries at start: its process is gone from this host, so
// nobody waits for the timeout (30s here).
func TestRestartedReplicaReclaimsItsPredecessorAtOnce(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	rc, arrived := holdingReceiver(t)
	env := []string{"DATABASE_URL=" + dbURL}
	flags := []string{"--replica-timeout", "30s"}

	first := startServe(t, env, flags...)
	const n = 5
	createOneOffs(t, first, n, map[string]any{"delay": "0s"}, rc.URL)
	held := waitFor(t, arrived, n, 20*time.Second, "deliveries on the wire")
	first.kill(t)
	killed := time.Now()
	second := startServe(t, env, flags...)
	heraldtest.Eventually(t, 25*time.Second, func() bool {
		byID := deliveriesByID(rc)
		for _, id := range held {
			if byID[id] < 2 {
				return false
			}
		}
		return true
	}, "the restarted replica did not reclaim its predecessor's deliveries\n%s", second.logs.String())
	t.Logf("kill to the last reclaimed delivery's arrival: %s (--replica-timeout 30s)", time.Since(killed).Round(time.Millisecond))
	// The line is written after the reclaim commits, and read through a
	// pipe: it may come a little after the deliveries.
	heraldtest.Eventually(t, 5*time.Second, func() bool {
		return strings.Contains(second.logs.String(), "its process on this host is gone")
	}, "no line says why the predecessor was reclaimed\n%s", second.logs.String())
}

// A live replica is never reclaimed, however long its request takes: a
// request held 15 times the replica timeout arrives once and succeeds.
func TestLiveReplicaWithALongRequestIsNotReclaimed(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	const hold = 15 * time.Second
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		time.Sleep(hold)
		w.WriteHeader(http.StatusOK)
	})
	env := []string{"DATABASE_URL=" + dbURL}
	a := startServe(t, env, quickLiveness...)
	startServe(t, env, quickLiveness...)
	ids := createOneOffs(t, a, 1, map[string]any{"delay": "0s"}, rc.URL)
	heraldtest.Eventually(t, hold+20*time.Second, func() bool {
		code, body := a.call(t, http.MethodGet, "/v1/runs?job_id="+ids[0], nil)
		require.Equal(t, http.StatusOK, code)
		return strings.Contains(string(body), `"state":"succeeded"`)
	}, "the run did not succeed")
	require.Equal(t, 1, rc.Count(), "the long request was sent again")
	code, body := a.call(t, http.MethodGet, "/v1/replicas", nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, string(body), `"state":"dead"`)
}

// A replica paused (SIGSTOP) while holding staged deliveries is declared
// dead; a survivor delivers them. Woken up, the stale replica sends none of
// them: it finds itself declared dead, drops them, and registers again.
func TestStaleReplicaSendsNothingReclaimed(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	pool := dbtest.Connect(t, dbURL)
	rc := heraldtest.NewReceiver(t, nil)
	env := []string{"DATABASE_URL=" + dbURL}

	stale := startServe(t, env, quickLiveness...)
	const n = 5
	at := time.Now().Add(4 * time.Second).UTC().Truncate(time.Millisecond)
	createOneOffs(t, stale, n, map[string]any{"at": at.Format(time.RFC3339Nano)}, rc.URL)
	// The deliveries are staged: taken, their attempts begun, waiting for
	// their time (jobs.StageLead before it). Pause the process then.
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var running int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM task_runs WHERE state = 'running'`).Scan(&running))
		return running == n
	}, "the deliveries were not staged")
	require.NoError(t, stale.cmd.Process.Signal(syscall.SIGSTOP))
	cont := sync.OnceFunc(func() { _ = stale.cmd.Process.Signal(syscall.SIGCONT) })
	t.Cleanup(cont)
	require.Zero(t, rc.Count(), "sent before the pause: the test raced its own process")

	survivor := startServe(t, env, quickLiveness...)
	heraldtest.Eventually(t, 20*time.Second, func() bool { return rc.Count() == n },
		"the survivor did not deliver the paused replica's deliveries\n%s", survivor.logs.String())
	cont()
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(stale.logs.String(), "declared dead") && strings.Contains(stale.logs.String(), "replica registered")
	}, "the stale replica did not find itself declared dead")
	time.Sleep(2 * time.Second) // time for anything it still held to go out: nothing may
	byID := deliveriesByID(rc)
	require.Len(t, byID, n)
	for id, c := range byID {
		require.Equal(t, 1, c, "webhook %s sent %d times", id, c)
	}
	for _, r := range rc.Requests() {
		require.False(t, r.At.Before(at), "sent before its time")
	}
}

// PostgreSQL stopped for 10 seconds under load, then started again: API
// calls answer 503 with Retry-After within seconds meanwhile, nobody acts,
// and afterwards every acknowledged registration exists, every run ends,
// each tick has one run and one webhook-id, the tick due during the outage
// fires (misfire fire_once), and no replica was declared dead.
func TestDatabaseOutageLosesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("stops a PostgreSQL server for 10 seconds")
	}
	ctx := context.Background()
	dataDir, err := os.MkdirTemp("", "herald-outage-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dataDir, 0o755)) // the server may run as postgres
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	pgCfg := pgembed.Config{DataDir: filepath.Join(dataDir, "pg"), Fast: true}
	srv, err := pgembed.Start(ctx, pgCfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	dbURL := srv.URL()

	rc := heraldtest.NewReceiver(t, nil)
	env := []string{"DATABASE_URL=" + dbURL}
	a := startServe(t, env, quickLiveness...)
	b := startServe(t, env, quickLiveness...)
	cron := createOneOffs(t, a, 1, map[string]any{"cron": "* * * * * *"}, rc.URL)[0]
	duringOutage := time.Now().Add(6 * time.Second).UTC().Truncate(time.Second)
	atJob := createOneOffs(t, a, 1, map[string]any{"at": duringOutage.Format(time.RFC3339)}, rc.URL)[0]

	// Registrations keep coming, to both replicas, through the outage.
	var acked sync.Map // job id -> true
	var refused atomic.Int64
	stopLoad := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for i := 0; ; i++ {
			select {
			case <-stopLoad:
				return
			case <-time.After(100 * time.Millisecond):
			}
			p := a
			if i%2 == 1 {
				p = b
			}
			code, body := p.call(t, http.MethodPost, "/v1/jobs", map[string]any{
				"name": fmt.Sprintf("load-%d", i), "schedule": map[string]any{"delay": "1s"},
				"tasks": []any{map[string]any{"request": map[string]any{"url": rc.URL}}},
			})
			if code == http.StatusCreated {
				var j struct{ ID string }
				if json.Unmarshal(body, &j) == nil {
					acked.Store(j.ID, true)
				}
			} else {
				refused.Add(1)
			}
		}
	}()

	time.Sleep(3 * time.Second)
	require.NoError(t, srv.Stop(ctx))
	down := time.Now()

	// Meanwhile: 503 problem+json with Retry-After, quickly; /readyz fails.
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		begin := time.Now()
		req, _ := http.NewRequest(http.MethodGet, a.url+"/v1/jobs", nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			return false
		}
		require.Less(t, time.Since(begin), 6*time.Second, "the 503 took too long")
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		require.Equal(t, "5", resp.Header.Get("Retry-After"))
		return true
	}, "the API did not answer 503 while the database was away")
	resp, err := http.Get(b.url + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	time.Sleep(time.Until(down.Add(10 * time.Second)))
	srv, err = pgembed.Start(ctx, pgCfg)
	require.NoError(t, err)
	t.Logf("PostgreSQL was down for %s", time.Since(down).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // load goes on after the outage
	close(stopLoad)
	<-loadDone

	pool := dbtest.Connect(t, dbURL)
	// Every acknowledged registration exists.
	var ackedIDs []string
	acked.Range(func(k, _ any) bool { ackedIDs = append(ackedIDs, k.(string)); return true })
	var found int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE id::text = ANY($1)`, ackedIDs).Scan(&found))
	require.Equal(t, len(ackedIDs), found, "acknowledged registrations lost")
	t.Logf("registrations: %d acknowledged, %d refused during the outage", len(ackedIDs), refused.Load())
	require.Positive(t, refused.Load(), "no registration was refused: was the database down?")

	// Every run of the one-off jobs ends; the tick due during the outage ran.
	heraldtest.Eventually(t, 30*time.Second, func() bool {
		var open int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM runs WHERE state = 'running' AND job_id <> $1`, cron).Scan(&open))
		return open == 0
	}, "runs left unfinished after the outage")
	var atRuns int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM runs WHERE job_id = $1 AND state = 'succeeded'`, atJob).Scan(&atRuns))
	require.Equal(t, 1, atRuns, "the tick due during the outage")
	assertNoDoubledTicks(t, rc)
	var deadReplicas int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM replicas WHERE state = 'dead'`).Scan(&deadReplicas))
	require.Zero(t, deadReplicas, "a replica was declared dead for an outage")
	var missed int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT missed_ticks FROM jobs WHERE id = $1`, cron).Scan(&missed))
	t.Logf("per-second job: %d ticks missed and counted (misfire fire_once)", missed)
}

// assertNoDoubledTicks checks that each (job, scheduled time) reached the
// receiver under one webhook-id.
func assertNoDoubledTicks(t *testing.T, rc *heraldtest.Receiver) {
	t.Helper()
	ids := map[string]map[string]bool{}
	for _, r := range rc.Requests() {
		tick := r.Header.Get("Herald-Job") + "@" + r.Header.Get("Herald-Scheduled-For")
		if ids[tick] == nil {
			ids[tick] = map[string]bool{}
		}
		ids[tick][r.Header.Get("Webhook-Id")] = true
	}
	for tick, set := range ids {
		require.Len(t, set, 1, "tick %s ran as %d runs", tick, len(set))
	}
}

// Liveness settings that would declare live replicas dead are refused at
// start, naming the flag, before anything else happens.
func TestServeRefusesUnsoundLiveness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		named string
	}{
		{name: "heartbeat under 100ms", args: []string{"--heartbeat-interval", "50ms"}, named: "--heartbeat-interval"},
		{name: "timeout under three heartbeats", args: []string{"--heartbeat-interval", "500ms", "--replica-timeout", "1s"}, named: "--replica-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			args := append([]string{"serve", "--api-key", "k", "--addr", "127.0.0.1:0", "--database-url", "postgres://nowhere.invalid/x"}, tt.args...)
			err := run(t.Context(), args, &stdout, &stderr)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.named)
		})
	}
}
