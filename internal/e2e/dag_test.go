package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
)

// task is a task of a test DAG calling url+"/"+id.
func task(url, id string, deps ...string) map[string]any {
	t := map[string]any{
		"id":      id,
		"request": map[string]any{"url": url + "/" + id},
		"retry":   map[string]any{"max_attempts": 1},
	}
	if len(deps) > 0 {
		t["depends_on"] = deps
	}
	return t
}

// startDAG registers a job with tasks on h and triggers one run of it.
func startDAG(t *testing.T, h *heraldtest.Herald, tasks []any) (jobID, runID string) {
	t.Helper()
	resp := h.Do(http.MethodPost, "/v1/jobs", map[string]any{"name": t.Name(), "tasks": tasks})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var j struct{ ID string }
	resp.JSON(t, &j)
	resp = h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	var r struct{ ID string }
	resp.JSON(t, &r)
	return j.ID, r.ID
}

type dagRun struct {
	State string `json:"state"`
	Tasks []struct {
		TaskID   string `json:"task_id"`
		State    string `json:"state"`
		Attempts []struct {
			Attempt int `json:"attempt"`
		} `json:"attempts"`
		LastError *string `json:"last_error"`
	} `json:"tasks"`
}

func (r *dagRun) states() map[string]string {
	out := map[string]string{}
	for _, t := range r.Tasks {
		out[t.TaskID] = t.State
	}
	return out
}

func waitRun(t *testing.T, h *heraldtest.Herald, runID string, within time.Duration) dagRun {
	t.Helper()
	var r dagRun
	heraldtest.Eventually(t, within, func() bool {
		r = dagRun{}
		h.Do(http.MethodGet, "/v1/runs/"+runID, nil).JSON(t, &r)
		return r.State != "running"
	}, "run %s did not end", runID)
	return r
}

// byPath indexes a receiver's requests by path.
func byPath(rc *heraldtest.Receiver) map[string][]heraldtest.Request {
	out := map[string][]heraldtest.Request{}
	for _, r := range rc.Requests() {
		out[r.Path] = append(out[r.Path], r)
	}
	return out
}

func TestDiamondRunsInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	answered := map[string]time.Time{}
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/b" {
			time.Sleep(150 * time.Millisecond) // a slower branch
		}
		mu.Lock()
		answered[r.Path] = time.Now()
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	_, runID := startDAG(t, b.h, []any{
		task(rc.URL, "d", "b", "c"), task(rc.URL, "b", "a"), task(rc.URL, "c", "a"), task(rc.URL, "a"),
	})
	r := waitRun(t, b.h, runID, 15*time.Second)
	require.Equal(t, "succeeded", r.State)
	got := byPath(rc)
	for _, p := range []string{"/a", "/b", "/c", "/d"} {
		require.Len(t, got[p], 1, "deliveries of %s", p)
	}
	mu.Lock()
	defer mu.Unlock()
	require.True(t, got["/b"][0].At.After(answered["/a"]) && got["/c"][0].At.After(answered["/a"]), "b and c started before a answered")
	require.True(t, got["/d"][0].At.After(answered["/b"]) && got["/d"][0].At.After(answered["/c"]), "d started before both b and c answered")
}

func TestFanOutFanIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	tasks := []any{task(rc.URL, "root")}
	var mids []string
	for i := range 200 {
		id := fmt.Sprintf("m%03d", i)
		mids = append(mids, id)
		tasks = append(tasks, task(rc.URL, id, "root"))
	}
	tasks = append(tasks, task(rc.URL, "sink", mids...))
	_, runID := startDAG(t, b.h, tasks)
	r := waitRun(t, b.h, runID, 60*time.Second)
	require.Equal(t, "succeeded", r.State)
	got := byPath(rc)
	require.Len(t, got, 202)
	var lastMid time.Time
	for _, id := range mids {
		require.Len(t, got["/"+id], 1, "deliveries of %s", id)
		if at := got["/"+id][0].At; at.After(lastMid) {
			lastMid = at
		}
	}
	require.Len(t, got["/sink"], 1)
	require.True(t, got["/sink"][0].At.After(lastMid), "the fan-in started before every parent was done")
}

// failingDAG is a -> b -> c and a -> d -> e, where b fails while failB is set.
func failingDAG(t *testing.T, failB *bool, mu *sync.Mutex) *heraldtest.Receiver {
	return heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		mu.Lock()
		fail := *failB && r.Path == "/b"
		mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

func TestFailureMarksDescendantsAndRetryRerunsOnlyThem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	failB := true
	rc := failingDAG(t, &failB, &mu)
	_, runID := startDAG(t, b.h, []any{
		task(rc.URL, "a"), task(rc.URL, "b", "a"), task(rc.URL, "c", "b"), task(rc.URL, "d", "a"), task(rc.URL, "e", "d"),
	})
	r := waitRun(t, b.h, runID, 15*time.Second)
	require.Equal(t, "failed", r.State)
	require.Equal(t, map[string]string{
		"a": "succeeded", "b": "failed", "c": "upstream_failed", "d": "succeeded", "e": "succeeded",
	}, r.states())
	got := byPath(rc)
	require.Empty(t, got["/c"], "a task downstream of a failure was delivered")

	// Retry: only b and c run again; a, d, e keep their success.
	mu.Lock()
	failB = false
	mu.Unlock()
	resp := b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/retry", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	r = waitRun(t, b.h, runID, 15*time.Second)
	require.Equal(t, "succeeded", r.State)
	got = byPath(rc)
	for path, want := range map[string]int{"/a": 1, "/b": 2, "/c": 1, "/d": 1, "/e": 1} {
		require.Len(t, got[path], want, "deliveries of %s", path)
	}
	require.Equal(t, got["/b"][0].Header.Get("Webhook-Id"), got["/b"][1].Header.Get("Webhook-Id"))
	require.Equal(t, "2", got["/b"][1].Header.Get("Herald-Attempt"), "attempt numbers continue")

	// A succeeded run cannot be retried.
	resp = b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/retry", nil)
	require.Equal(t, http.StatusConflict, resp.Status, "body: %s", resp.Body)
}

func TestCancelStopsWhatHasNotFinished(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arrived := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/a" {
			once.Do(func() { close(arrived) })
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	_, runID := startDAG(t, b.h, []any{task(rc.URL, "a"), task(rc.URL, "b", "a")})
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("a was not delivered")
	}
	resp := b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/cancel", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	close(release) // a's request completes on the wire; its outcome changes nothing

	r := waitRun(t, b.h, runID, 5*time.Second)
	require.Equal(t, "cancelled", r.State)
	require.Equal(t, map[string]string{"a": "cancelled", "b": "cancelled"}, r.states())
	// Nothing is left to deliver.
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var open int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')").Scan(&open))
		return open == 0
	}, "work left in the queue")
	require.Empty(t, byPath(rc)["/b"])
	require.Equal(t, http.StatusConflict, b.h.Do(http.MethodPost, "/v1/runs/"+runID+"/cancel", nil).Status)
}

func TestDataPassesFromParentToChild(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/fetch" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token": "abc/1", "count": 5, "items": [{"name": "gw-17"}]}`)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	report := task(rc.URL, "report", "fetch")
	report["request"] = map[string]any{
		"url":     rc.URL + "/report/{{ tasks.fetch.body.items.0.name }}?token={{tasks.fetch.body.token}}",
		"headers": map[string]any{"X-Upstream-Status": "{{ tasks.fetch.status }}"},
		"body":    map[string]any{"token": "{{ tasks.fetch.body.token }}", "count": "{{ tasks.fetch.body.count }}", "note": "n={{ tasks.fetch.body.count }}"},
	}
	_, runID := startDAG(t, b.h, []any{task(rc.URL, "fetch"), report})
	r := waitRun(t, b.h, runID, 15*time.Second)
	require.Equal(t, "succeeded", r.State)
	var got heraldtest.Request
	for _, req := range rc.Requests() {
		if strings.HasPrefix(req.Path, "/report") {
			got = req
		}
	}
	require.Equal(t, "/report/gw-17", got.Path)
	require.Equal(t, "200", got.Header.Get("X-Upstream-Status"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(got.Body, &body))
	require.Equal(t, map[string]any{"token": "abc/1", "count": float64(5), "note": "n=5"}, body)
}

func TestUnresolvableReferenceFailsTheTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		fmt.Fprint(w, `{"other": 1}`)
	})
	child := task(rc.URL, "child", "parent")
	child["request"] = map[string]any{"url": rc.URL + "/child", "body": map[string]any{"t": "{{ tasks.parent.body.token }}"}}
	_, runID := startDAG(t, b.h, []any{task(rc.URL, "parent"), child})
	r := waitRun(t, b.h, runID, 15*time.Second)
	require.Equal(t, "failed", r.State)
	for _, tk := range r.Tasks {
		if tk.TaskID == "child" {
			require.Equal(t, "failed", tk.State)
			require.Contains(t, *tk.LastError, "token")
		}
	}
	require.Empty(t, byPath(rc)["/child"])
}

// TestStopBetweenParentAndChild stops the first herald while the parent's
// request is in flight, then starts another: the parent is delivered again
// (same webhook-id) and the child exactly once.
func TestStopBetweenParentAndChild(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	first := heraldtest.StartOn(t, pool, heraldtest.Options{})
	var once sync.Once
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if r.Path == "/parent" {
			once.Do(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = first.River.StopAndCancel(ctx) // the process dies with the parent in flight
			})
		}
		w.WriteHeader(http.StatusOK)
	})
	_, runID := startDAG(t, first, []any{task(rc.URL, "parent"), task(rc.URL, "child", "parent")})
	heraldtest.Eventually(t, 10*time.Second, func() bool { return rc.Count() >= 1 }, "parent not delivered")

	second := heraldtest.StartOn(t, pool, heraldtest.Options{})
	r := waitRun(t, second, runID, 20*time.Second)
	require.Equal(t, "succeeded", r.State)
	got := byPath(rc)
	require.Len(t, got["/child"], 1, "child deliveries")
	require.GreaterOrEqual(t, len(got["/parent"]), 1)
	for _, p := range got["/parent"] {
		require.Equal(t, got["/parent"][0].Header.Get("Webhook-Id"), p.Header.Get("Webhook-Id"))
	}
}
