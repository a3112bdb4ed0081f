package handlers_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// createKey creates a key with the bootstrap key (or with as) and returns it.
func (b *testBundle) createKey(t *testing.T, as string, body map[string]any) (id, key string) {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + as}}
	resp := b.h.DoWithHeader(http.MethodPost, "/v1/keys", body, h)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var k struct{ ID, Key string }
	resp.JSON(t, &k)
	return k.ID, k.Key
}

func (b *testBundle) as(t *testing.T, key, method, path string, body any) int {
	t.Helper()
	return b.h.DoWithHeader(method, path, body, http.Header{"Authorization": {"Bearer " + key}}).Status
}

func job(name string, labels map[string]any) map[string]any {
	j := map[string]any{"name": name, "tasks": []any{map[string]any{"request": map[string]any{"url": "https://device.example/hook"}}}}
	if labels != nil {
		j["labels"] = labels
	}
	return j
}

// Each scope reaches what it should and is refused the rest, with 403 naming
// the scope needed.
func TestKeyScopes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const boot = "test-key"
	_, read := b.createKey(t, boot, map[string]any{"name": "dashboards"})
	_, writer := b.createKey(t, boot, map[string]any{"name": "ci", "scope": "write"})
	_, admin := b.createKey(t, boot, map[string]any{"name": "ops", "scope": "admin"})

	tests := []struct {
		name         string
		key          string
		method, path string
		body         any
		want         int
	}{
		{"read lists jobs", read, http.MethodGet, "/v1/jobs", nil, http.StatusOK},
		{"read reads devices", read, http.MethodGet, "/v1/devices", nil, http.StatusOK},
		{"read cannot create a job", read, http.MethodPost, "/v1/jobs", job("x", nil), http.StatusForbidden},
		{"read cannot list keys", read, http.MethodGet, "/v1/keys", nil, http.StatusForbidden},
		{"write creates a job", writer, http.MethodPost, "/v1/jobs", job("y", nil), http.StatusCreated},
		{"write registers a device", writer, http.MethodPost, "/v1/devices", map[string]any{"name": "gw"}, http.StatusCreated},
		{"write cannot create a key", writer, http.MethodPost, "/v1/keys", map[string]any{"name": "z"}, http.StatusForbidden},
		{"write cannot read the audit log", writer, http.MethodGet, "/v1/audit", nil, http.StatusForbidden},
		{"admin reads the audit log", admin, http.MethodGet, "/v1/audit", nil, http.StatusOK},
		{"admin creates a write key", admin, http.MethodPost, "/v1/keys", map[string]any{"name": "w", "scope": "write"}, http.StatusCreated},
	}
	for _, tt := range tests {
		if got := b.as(t, tt.key, tt.method, tt.path, tt.body); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
	resp := b.h.DoWithHeader(http.MethodPost, "/v1/jobs", job("x", nil), http.Header{"Authorization": {"Bearer " + read}})
	var p problem
	resp.JSON(t, &p)
	require.Contains(t, p.Detail, "needs write")
	require.Equal(t, "scope", p.Errors[0].Field)
}

// A key limited to labels sees only the jobs carrying them (others are not
// found: 404), writes only such jobs (403), and creates no broader key.
func TestLabelLimitedKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const boot = "test-key"
	var edge, core struct{ ID string }
	resp := b.h.Do(http.MethodPost, "/v1/jobs", job("edge", map[string]any{"team": "edge"}))
	require.Equal(t, http.StatusCreated, resp.Status)
	resp.JSON(t, &edge)
	resp = b.h.Do(http.MethodPost, "/v1/jobs", job("core", map[string]any{"team": "core"}))
	require.Equal(t, http.StatusCreated, resp.Status)
	resp.JSON(t, &core)
	var coreRun struct{ ID string }
	b.h.Do(http.MethodPost, "/v1/jobs/"+core.ID+"/runs", nil).JSON(t, &coreRun)

	_, limited := b.createKey(t, boot, map[string]any{"name": "edge-team", "scope": "admin", "labels": map[string]any{"team": "edge"}})
	var page struct{ Data []struct{ ID string } }
	b.h.DoWithHeader(http.MethodGet, "/v1/jobs", nil, http.Header{"Authorization": {"Bearer " + limited}}).JSON(t, &page)
	require.Len(t, page.Data, 1)
	require.Equal(t, edge.ID, page.Data[0].ID)
	b.h.DoWithHeader(http.MethodGet, "/v1/runs", nil, http.Header{"Authorization": {"Bearer " + limited}}).JSON(t, &page)
	require.Empty(t, page.Data, "the other team's run is listed")

	tests := []struct {
		name         string
		method, path string
		body         any
		want         int
	}{
		{"another team's job", http.MethodGet, "/v1/jobs/" + core.ID, nil, http.StatusNotFound},
		{"its run", http.MethodGet, "/v1/runs/" + coreRun.ID, nil, http.StatusNotFound},
		{"cancelling its run", http.MethodPost, "/v1/runs/" + coreRun.ID + "/cancel", nil, http.StatusNotFound},
		{"triggering it", http.MethodPost, "/v1/jobs/" + core.ID + "/runs", nil, http.StatusNotFound},
		{"pausing it", http.MethodPost, "/v1/jobs/" + core.ID + "/pause", nil, http.StatusNotFound},
		{"its graph", http.MethodGet, "/v1/jobs/" + core.ID + "/graph", nil, http.StatusNotFound},
		{"its own team's job", http.MethodGet, "/v1/jobs/" + edge.ID, nil, http.StatusOK},
		{"a job without the label", http.MethodPost, "/v1/jobs", job("bare", nil), http.StatusForbidden},
		{"a job with the label", http.MethodPost, "/v1/jobs", job("ok", map[string]any{"team": "edge", "site": "17"}), http.StatusCreated},
		{"moving its job away", http.MethodPut, "/v1/jobs/" + edge.ID, job("edge", map[string]any{"team": "core"}), http.StatusForbidden},
		{"a broader key", http.MethodPost, "/v1/keys", map[string]any{"name": "all", "scope": "read"}, http.StatusForbidden},
		{"a key as narrow", http.MethodPost, "/v1/keys", map[string]any{"name": "narrow", "labels": map[string]any{"team": "edge", "site": "17"}}, http.StatusCreated},
	}
	for _, tt := range tests {
		if got := b.as(t, limited, tt.method, tt.path, tt.body); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}
