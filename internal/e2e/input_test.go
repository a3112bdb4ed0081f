package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
	"github.com/herald-sched/herald/jobs"
)

// A host that browsers and C resolvers read as an IPv4 address is judged at
// registration by the address it denotes, and the delivery goes to that
// address: the test herald allows loopback, so "0x7f.1" (127.0.0.1) works.
func TestNumericIPv4HostIsDeliveredToItsAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := heraldtest.NewReceiver(t, nil)
	url := strings.Replace(rc.URL, "127.0.0.1", "0x7f.1", 1) + "/hook"

	j := b.createJob(t, nil, url, nil)
	resp := b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)

	r := b.finishedRun(t, j.ID, 30*time.Second)
	require.Equal(t, "succeeded", r.State, "got %v, want succeeded (attempts %+v)", r.State, r.Tasks[0].Attempts)
	require.Equal(t, 1, rc.Count(), "got %v deliveries, want 1", rc.Count())
	require.Equal(t, "/hook", rc.Requests()[0].Path)
}

// A request herald cannot send (here a header value with a control
// character, stored before registration refused it) fails its task at once,
// with one attempt that says why, and never counts against the host's
// circuit: a healthy job to the same host is not held back.
func TestUnsendableRequestFailsAtOnceAndSparesTheCircuit(t *testing.T) {
	t.Parallel()
	b := &testBundle{h: heraldtest.Start(t, heraldtest.Options{Jobs: func(c *jobs.Config) {
		c.CircuitThreshold = 2
	}})}
	rc := heraldtest.NewReceiver(t, nil)
	bad := b.createJob(t, nil, rc.URL+"/bad", map[string]any{
		"retry": map[string]any{"max_attempts": 5, "initial_interval": "10ms"},
	})
	_, err := b.h.Pool.Exec(context.Background(),
		`UPDATE jobs SET tasks = jsonb_set(tasks::jsonb, '{0,request,headers}', '{"X-A": "a\u0001b"}')::json WHERE id = $1`, bad.ID)
	require.NoError(t, err)
	healthy := b.createJob(t, nil, rc.URL+"/healthy", nil)

	for range 3 {
		resp := b.h.Do(http.MethodPost, "/v1/jobs/"+bad.ID+"/runs", nil)
		require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	}
	heraldtest.Eventually(t, 10*time.Second, func() bool {
		var page struct{ Data []run }
		b.h.Do(http.MethodGet, "/v1/runs?job_id="+bad.ID+"&state=failed", nil).JSON(t, &page)
		return len(page.Data) == 3
	}, "the runs of the unsendable job did not fail")
	var page struct{ Data []run }
	b.h.Do(http.MethodGet, "/v1/runs?job_id="+bad.ID, nil).JSON(t, &page)
	for _, summary := range page.Data {
		var r run
		b.h.Do(http.MethodGet, "/v1/runs/"+summary.ID, nil).JSON(t, &r)
		atts := r.Tasks[0].Attempts
		require.Len(t, atts, 1, "got %v attempts, want 1: an unsendable request is not retried", len(atts))
		require.Equal(t, "failed", atts[0].Outcome)
		require.Nil(t, atts[0].StatusCode, "got a status code, want none: nothing was sent")
		require.NotNil(t, atts[0].Error)
		require.Contains(t, *atts[0].Error, "request not sent", "got %q", *atts[0].Error)
		require.Contains(t, *atts[0].Error, `"X-A"`, "got %q", *atts[0].Error)
	}
	require.Zero(t, rc.Count(), "got %v requests, want none", rc.Count())

	var failures int
	require.NoError(t, b.h.Pool.QueryRow(context.Background(),
		"SELECT coalesce(sum(consecutive_failures), 0) + count(*) FILTER (WHERE state = 'open') FROM endpoints").Scan(&failures))
	require.Zero(t, failures, "got %v failures or open circuits, want none: the host did nothing wrong", failures)

	resp := b.h.Do(http.MethodPost, "/v1/jobs/"+healthy.ID+"/runs", nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "body: %s", resp.Body)
	r := b.finishedRun(t, healthy.ID, 5*time.Second)
	require.Equal(t, "succeeded", r.State)
	require.Len(t, r.Tasks[0].Attempts, 1)
}
