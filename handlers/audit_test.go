package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

type auditRow struct {
	Principal string  `json:"principal"`
	KeyID     *string `json:"key_id"`
	Action    string  `json:"action"`
	ObjectID  *string `json:"object_id"`
	Status    int     `json:"status"`
	Detail    *string `json:"detail"`
	RequestID string  `json:"request_id"`
}

// Each write leaves exactly one audit row, a refused one too; reads leave
// none; the log is filtered and paged, and refuses a bad cursor or time.
func TestEveryWriteLeavesOneAuditRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keyID, writer := b.createKey(t, "test-key", map[string]any{"name": "ci", "scope": "write"}) // 1: POST /v1/keys
	w := http.Header{"Authorization": {"Bearer " + writer}}

	resp := b.h.DoWithHeader(http.MethodPost, "/v1/jobs", job("audited", nil), w) // 2: created
	require.Equal(t, http.StatusCreated, resp.Status)
	var j struct{ ID string }
	resp.JSON(t, &j)
	require.Equal(t, http.StatusOK, b.as(t, writer, http.MethodGet, "/v1/jobs/"+j.ID, nil))                           // a read: no row
	require.Equal(t, http.StatusOK, b.as(t, writer, http.MethodPost, "/v1/jobs/"+j.ID+"/pause", nil))                 // 3
	require.Equal(t, http.StatusAccepted, b.as(t, writer, http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil))            // 4: batched
	require.Equal(t, http.StatusUnprocessableEntity, b.as(t, writer, http.MethodPost, "/v1/jobs", job("", nil)))      // 5: refused
	require.Equal(t, http.StatusForbidden, b.as(t, writer, http.MethodPost, "/v1/keys", map[string]any{"name": "x"})) // 6: scope
	keyed := b.h.DoWithHeader(http.MethodPost, "/v1/jobs", job("keyed", nil), http.Header{"Authorization": {"Bearer " + writer}, "Idempotency-Key": {"k-1"}})
	require.Equal(t, http.StatusCreated, keyed.Status)                                                // 7
	require.Equal(t, http.StatusNoContent, b.as(t, writer, http.MethodDelete, "/v1/jobs/"+j.ID, nil)) // 8

	var page struct {
		Data       []auditRow `json:"data"`
		NextCursor *string    `json:"next_cursor"`
	}
	b.h.Do(http.MethodGet, "/v1/audit?limit=100", nil).JSON(t, &page)
	require.Len(t, page.Data, 8, "%+v", page.Data)
	got := map[string]auditRow{}
	for _, r := range page.Data {
		got[r.Action+" "+http.StatusText(r.Status)] = r
		require.NotEmpty(t, r.RequestID)
	}
	require.Contains(t, got, "POST /v1/keys Created")
	require.Equal(t, "bootstrap", got["POST /v1/keys Created"].Principal)
	created := got["POST /v1/jobs Created"]
	require.Equal(t, "key:"+keyID, created.Principal)
	require.Equal(t, keyID, *created.KeyID)
	pause := got["POST /v1/jobs/{jobID}/pause OK"]
	require.Equal(t, j.ID, *pause.ObjectID)
	trigger := got["POST /v1/jobs/{jobID}/runs Accepted"]
	require.NotNil(t, trigger.ObjectID, "the run triggered")
	refused := got["POST /v1/jobs Unprocessable Entity"]
	require.Contains(t, *refused.Detail, "name")
	require.Contains(t, got, "POST /v1/keys Forbidden")
	require.Contains(t, got, "DELETE /v1/jobs/{jobID} No Content")

	// Filters, and pages.
	b.h.Do(http.MethodGet, "/v1/audit?failed=true", nil).JSON(t, &page)
	require.Len(t, page.Data, 2)
	b.h.Do(http.MethodGet, "/v1/audit?object_id="+j.ID, nil).JSON(t, &page)
	require.Len(t, page.Data, 3, "create, pause and delete")
	b.h.Do(http.MethodGet, "/v1/audit?limit=3", nil).JSON(t, &page)
	require.Len(t, page.Data, 3)
	require.NotNil(t, page.NextCursor)
	require.Equal(t, http.StatusBadRequest, b.h.Do(http.MethodGet, "/v1/audit?cursor=nope", nil).Status)
	require.Equal(t, http.StatusBadRequest, b.h.Do(http.MethodGet, "/v1/audit?from=yesterday", nil).Status)

	// A write's row commits with it: no row without its write.
	var orphans int
	require.NoError(t, b.h.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM audit_log a WHERE a.action = 'POST /v1/jobs' AND a.status = 201
		  AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id::text = a.object_id)`).Scan(&orphans))
	require.Zero(t, orphans)
}

// Concurrent triggers are started in one batch and audited with one
// statement: each still leaves its own row, naming its run.
func TestBatchedTriggersEachLeaveOneAuditRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp := b.h.Do(http.MethodPost, "/v1/jobs", job("batched", nil))
	require.Equal(t, http.StatusCreated, resp.Status)
	var j struct{ ID string }
	resp.JSON(t, &j)
	const n = 20
	runs := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := b.h.Do(http.MethodPost, "/v1/jobs/"+j.ID+"/runs", nil)
			var r struct{ ID string }
			resp.JSON(t, &r)
			runs <- r.ID
		}()
	}
	wg.Wait()
	close(runs)
	var page struct{ Data []auditRow }
	b.h.Do(http.MethodGet, "/v1/audit?action="+url.QueryEscape("POST /v1/jobs/{jobID}/runs")+"&limit=100", nil).JSON(t, &page)
	require.Len(t, page.Data, n)
	audited := map[string]bool{}
	for _, r := range page.Data {
		require.NotNil(t, r.ObjectID)
		audited[*r.ObjectID] = true
	}
	for id := range runs {
		require.True(t, audited[id], "run %s has no audit row", id)
	}
}

// Concurrent registrations are stored in shared transactions and audited
// with one statement per batch: each gets its own job and signing secret,
// and leaves its own row naming its job.
func TestBatchedRegistrationsEachGetTheirJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 30
	type created struct {
		ID, Name, Secret string
	}
	got := make(chan created, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := b.h.Do(http.MethodPost, "/v1/jobs", job(fmt.Sprintf("batched-%02d", i), nil))
			require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
			var c created
			resp.JSON(t, &c)
			got <- c
		}()
	}
	wg.Wait()
	close(got)
	ids, secrets, names := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for c := range got {
		require.False(t, ids[c.ID], "job %s given twice", c.ID)
		require.False(t, secrets[c.Secret], "a secret given twice")
		require.NotEmpty(t, c.Secret)
		ids[c.ID], secrets[c.Secret], names[c.Name] = true, true, true
		var stored string
		require.NoError(t, b.h.Pool.QueryRow(context.Background(), `SELECT name FROM jobs WHERE id = $1`, c.ID).Scan(&stored))
		require.Equal(t, c.Name, stored, "the answer names another job")
	}
	require.Len(t, names, n)

	var page struct{ Data []auditRow }
	b.h.Do(http.MethodGet, "/v1/audit?action="+url.QueryEscape("POST /v1/jobs")+"&limit=100", nil).JSON(t, &page)
	require.Len(t, page.Data, n)
	for _, r := range page.Data {
		require.NotNil(t, r.ObjectID)
		require.True(t, ids[*r.ObjectID], "an audit row names %s", *r.ObjectID)
	}
}
