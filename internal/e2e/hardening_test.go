package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/internal/testcert"
	"github.com/herald-sched/herald/jobs"
)

func TestRotatedSecretSignsWithBoth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	j := b.createJob(t, nil, rc.URL, nil)

	resp := b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/rotate-secret", nil)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	var rotated struct {
		Secret                  string     `json:"secret"`
		PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	}
	resp.JSON(t, &rotated)
	require.NotEqual(t, j.Secret, rotated.Secret)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), *rotated.PreviousSecretExpiresAt, time.Minute)
	require.NotContains(t, string(b.h.Do(http.MethodGet, "/v1/jobs/"+j.ID, nil).Body), rotated.Secret, "reads show the secret")

	require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)
	b.finishedRun(t, j.ID, 30*time.Second)
	got := rc.Requests()[0]
	require.Len(t, strings.Fields(got.Header.Get("Webhook-Signature")), 2, "two signatures during the overlap")
	for _, secret := range []string{j.Secret, rotated.Secret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(got.Body, got.Header), "verify with one secret alone")
	}
}

func TestRedirectIsAFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	target := heraldtest.NewReceiver(t, nil)
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		w.Header().Set("Location", target.URL)
		w.WriteHeader(http.StatusFound)
	})
	j := b.createJob(t, map[string]any{"delay": "0s"}, rc.URL, nil)
	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "failed", r.State)
	require.Len(t, r.Tasks[0].Attempts, 1, "a redirect is not retried")
	require.Equal(t, 302, *r.Tasks[0].Attempts[0].StatusCode)
	require.Zero(t, target.Count(), "the redirect was followed")
}

func TestBulkReplayRedeliversExactlyTheFailedRunsOfTheFilter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	failing := true
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ok := heraldtest.NewReceiver(t, nil)
	failA := b.createJob(t, nil, rc.URL+"/a", nil)
	failB := b.createJob(t, nil, rc.URL+"/b", nil)
	fine := b.createJob(t, nil, ok.URL, nil)
	for _, id := range []string{failA.ID, failA.ID, failB.ID, fine.ID} {
		require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+id+"/runs", nil).Status)
	}
	countRuns := func(query string) int {
		var page struct{ Data []struct{ ID string } }
		b.h.Do(http.MethodGet, "/v1/runs?"+query, nil).JSON(t, &page)
		return len(page.Data)
	}
	heraldtest.Eventually(t, 10*time.Second, func() bool { return countRuns("state=failed") == 3 && countRuns("state=succeeded") == 1 }, "runs did not settle")

	mu.Lock()
	failing = false
	mu.Unlock()
	resp := b.h.Do(http.MethodPost, "/v1/runs/replay", map[string]any{"job_id": failA.ID, "from": time.Now().Add(-time.Hour)})
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	var replay struct{ Replayed int }
	resp.JSON(t, &replay)
	require.Equal(t, 2, replay.Replayed)
	heraldtest.Eventually(t, 10*time.Second, func() bool { return countRuns("state=succeeded") == 3 }, "replayed runs did not succeed")
	require.Equal(t, 1, countRuns("state=failed"), "the run outside the filter stays failed")
	perPath := map[string]int{}
	for _, r := range rc.Requests() {
		perPath[r.Path]++
	}
	require.Equal(t, map[string]int{"/a": 4, "/b": 1}, perPath)
	require.Equal(t, 1, ok.Count())

	resp = b.h.Do(http.MethodPost, "/v1/runs/replay", map[string]any{"limit": 5000})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
}

// TestHungHostDoesNotStarveOthers queues hundreds of deliveries to a
// receiver that hangs, then checks that deliveries to a healthy one flow.
func TestHungHostDoesNotStarveOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release := make(chan struct{})
	hung := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		<-release
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() { close(release) })
	healthy := heraldtest.NewReceiver(t, nil)

	slow := b.createJob(t, nil, hung.URL, map[string]any{"request": map[string]any{"url": hung.URL, "timeout": "60s"}})
	for range 300 {
		require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+slow.ID+"/runs", nil).Status)
	}
	heraldtest.Eventually(t, 10*time.Second, func() bool { return hung.Count() >= 20 }, "the hung receiver did not fill up")

	fast := b.createJob(t, nil, healthy.URL, nil)
	start := time.Now()
	for range 50 {
		require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+fast.ID+"/runs", nil).Status)
	}
	heraldtest.Eventually(t, 20*time.Second, func() bool { return healthy.Count() == 50 }, "deliveries to the healthy receiver starved")
	t.Logf("50 deliveries to the healthy receiver in %v with %d requests hanging", time.Since(start), hung.Count())
	require.Equal(t, 20, hung.Count(), "the hung host took more than its share of workers")
}

// TestCircuitOpensParksAndCloses takes a receiver down: its circuit opens
// after 3 failures, deliveries park instead of burning attempts while probes
// test it, and once it is back the parked deliveries complete.
func TestCircuitOpensParksAndCloses(t *testing.T) {
	t.Parallel()
	b := &testBundle{h: heraldtest.Start(t, heraldtest.Options{Jobs: func(c *jobs.Config) {
		c.CircuitThreshold = 3
		c.ProbeInterval = 500 * time.Millisecond
	}})}
	var mu sync.Mutex
	down := true
	rc := heraldtest.NewReceiver(t, func(_ int, _ *heraldtest.Request, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	j := b.createJob(t, nil, rc.URL, map[string]any{
		"retry": map[string]any{"max_attempts": 4, "initial_interval": "10ms", "max_interval": "20ms"},
	})
	for range 10 {
		require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)
	}
	type endpoint struct {
		Host        string `json:"host"`
		State       string `json:"state"`
		TimesOpened int    `json:"times_opened"`
	}
	endpoints := func() []endpoint {
		var page struct{ Data []endpoint }
		b.h.Do(http.MethodGet, "/v1/endpoints", nil).JSON(t, &page)
		return page.Data
	}
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		eps := endpoints()
		return len(eps) == 1 && eps[0].State == "open"
	}, "the circuit did not open")
	// While open, only probes reach the receiver: far fewer than the 40
	// attempts the 10 runs would otherwise burn, and no run runs out of them.
	time.Sleep(2 * time.Second) // the receiver stays down for a while
	whileDown := rc.Count()
	require.Less(t, whileDown, 25, "parked deliveries kept hammering the receiver")
	var failed struct{ Data []struct{ ID string } }
	b.h.Do(http.MethodGet, "/v1/runs?state=failed", nil).JSON(t, &failed)
	require.Empty(t, failed.Data, "runs failed while parked")

	mu.Lock()
	down = false
	mu.Unlock()
	heraldtest.Eventually(t, 20*time.Second, func() bool {
		var page struct{ Data []struct{ ID string } }
		b.h.Do(http.MethodGet, "/v1/runs?state=succeeded", nil).JSON(t, &page)
		return len(page.Data) == 10
	}, "parked deliveries did not complete after the receiver came back")
	eps := endpoints()
	require.Equal(t, "closed", eps[0].State)
	require.Equal(t, 1, eps[0].TimesOpened)
}

// TestFlowLimitsHoldAcrossReplicas runs two heralds on one database and
// checks a job's rate and max_in_flight against what its receiver saw.
func TestFlowLimitsHoldAcrossReplicas(t *testing.T) {
	t.Parallel()
	t.Run("rate", func(t *testing.T) {
		t.Parallel()
		pool := dbtest.New(t)
		h := heraldtest.StartOn(t, pool, heraldtest.Options{})
		heraldtest.StartOn(t, pool, heraldtest.Options{})
		b := &testBundle{h: h}
		rc := heraldtest.NewReceiver(t, nil)
		const rate, runs = 4.0, 16
		j := b.createJobWith(t, rc.URL, map[string]any{"rate": rate})
		for range runs {
			require.Equal(t, http.StatusAccepted, h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)
		}
		heraldtest.Eventually(t, 20*time.Second, func() bool { return rc.Count() == runs }, "deliveries did not all arrive")
		reqs := rc.Requests()
		// A bucket of 4 tokens refilled at 4/s: in any window of d seconds at
		// most 4 + 4d deliveries (plus one for timing at the edges).
		for i := range reqs {
			for k := i + 1; k < len(reqs); k++ {
				d := reqs[k].At.Sub(reqs[i].At).Seconds()
				require.LessOrEqual(t, float64(k-i+1), rate+rate*d+1, "%d deliveries within %.2fs", k-i+1, d)
			}
		}
		require.GreaterOrEqual(t, reqs[len(reqs)-1].At.Sub(reqs[0].At), time.Duration((runs-rate-1)/rate*float64(time.Second)))
	})
	t.Run("max_in_flight", func(t *testing.T) {
		t.Parallel()
		pool := dbtest.New(t)
		h := heraldtest.StartOn(t, pool, heraldtest.Options{})
		heraldtest.StartOn(t, pool, heraldtest.Options{})
		b := &testBundle{h: h}
		rc, maxInFlight := slowReceiver(t, 300*time.Millisecond)
		j := b.createJobWith(t, rc.URL, map[string]any{"max_in_flight": 2})
		for range 10 {
			require.Equal(t, http.StatusAccepted, h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)
		}
		heraldtest.Eventually(t, 20*time.Second, func() bool { return rc.Count() == 10 }, "deliveries did not all arrive")
		require.Equal(t, int32(2), maxInFlight.Load())
	})
}

func TestMutualTLSDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ca := testcert.NewCA(t)
	srv, serverPEM := testcert.MTLSServer(t, ca)
	certPEM, keyPEM := ca.ClientCert(t, "gw-17")
	j := b.createJobWith(t, srv.URL, nil)
	resp := b.h.Do(http.MethodPut, "/v1/jobs/"+j.ID, map[string]any{
		"name": "mtls",
		"tasks": []any{map[string]any{"request": map[string]any{"url": srv.URL, "tls": map[string]any{
			"client_certificate": certPEM, "client_key": keyPEM, "ca_certificates": serverPEM,
		}}}},
	})
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	require.NotContains(t, string(resp.Body), "PRIVATE KEY", "the key is shown")
	require.Contains(t, string(resp.Body), `"client_key":"(redacted)"`)

	require.Equal(t, http.StatusAccepted, b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil).Status)
	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Equal(t, "gw-17", *r.Tasks[0].Attempts[0].ResponseBody, "the device saw herald's client certificate")

	bad := b.h.Do(http.MethodPost, "/v1/jobs", map[string]any{
		"name": "bad-cert",
		"tasks": []any{map[string]any{"request": map[string]any{"url": srv.URL, "tls": map[string]any{
			"client_certificate": "not a certificate", "client_key": keyPEM,
		}}}},
	})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, "body: %s", bad.Body)
	require.Contains(t, string(bad.Body), "tasks[0].request.tls")
}
