package jobs_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
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

	r := b.finishedRun(t, j.ID, 10*time.Second)
	require.Equal(t, "succeeded", r.State, "got %v, want succeeded (attempts %+v)", r.State, r.Tasks[0].Attempts)
	require.Equal(t, 1, rc.Count(), "got %v deliveries, want 1", rc.Count())
	require.Equal(t, "/hook", rc.Requests()[0].Path)
}
