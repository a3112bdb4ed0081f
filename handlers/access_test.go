package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAPIKeysCreateListRevoke(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp := b.h.Do(http.MethodPost, "/v1/keys", map[string]any{"name": "ci"})
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var created struct {
		ID, Key, Prefix string
	}
	resp.JSON(t, &created)
	require.Regexp(t, `^hk_[a-z0-9]{26}$`, created.Key)
	require.Equal(t, created.Key[:9], created.Prefix)

	withKey := http.Header{"Authorization": {"Bearer " + created.Key}}
	require.Equal(t, http.StatusOK, b.h.DoWithHeader(http.MethodGet, "/v1/jobs", nil, withKey).Status)

	// Listed without the secret; stored hashed.
	resp = b.h.Do(http.MethodGet, "/v1/keys", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.NotContains(t, string(resp.Body), created.Key)
	require.Contains(t, string(resp.Body), created.Prefix)
	var stored int
	require.NoError(t, b.h.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM api_keys WHERE hash = sha256($1::bytea) AND position($1::bytea in hash) = 0", []byte(created.Key)).Scan(&stored))
	require.Equal(t, 1, stored)

	// Revoked: refused at once.
	require.Equal(t, http.StatusNoContent, b.h.Do(http.MethodDelete, "/v1/keys/"+created.ID, nil).Status)
	resp = b.h.DoWithHeader(http.MethodGet, "/v1/jobs", nil, withKey)
	require.Equal(t, http.StatusUnauthorized, resp.Status)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodDelete, "/v1/keys/"+created.ID, nil).Status, "revoking a revoked key")
	var revokedAt int
	require.NoError(t, b.h.Pool.QueryRow(context.Background(), "SELECT count(revoked_at) FROM api_keys WHERE id = $1", created.ID).Scan(&revokedAt))
	require.Equal(t, 1, revokedAt)
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodDelete, "/v1/keys/00000000-0000-7000-8000-000000000000", nil).Status)
	require.Equal(t, http.StatusUnprocessableEntity, b.h.Do(http.MethodPost, "/v1/keys", map[string]any{"name": ""}).Status)
	require.Equal(t, http.StatusUnauthorized, b.h.DoWithHeader(http.MethodGet, "/v1/jobs", nil, http.Header{"Authorization": {"Bearer hk_unknown"}}).Status)
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := func(key string, body any) (int, http.Header, jobResp, []byte) {
		resp := b.h.DoWithHeader(http.MethodPost, "/v1/jobs", body, http.Header{
			"Authorization": {"Bearer test-key"}, "Idempotency-Key": {key},
		})
		var j jobResp
		if resp.Status == http.StatusCreated {
			resp.JSON(t, &j)
		}
		return resp.Status, resp.Header, j, resp.Body
	}
	count := func() int {
		var n int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(), "SELECT count(*) FROM jobs").Scan(&n))
		return n
	}

	t.Run("same key and body returns the original response", func(t *testing.T) {
		code, _, first, _ := post("key-same", validJob())
		require.Equal(t, http.StatusCreated, code)
		before := count()
		code, header, again, _ := post("key-same", validJob())
		require.Equal(t, http.StatusCreated, code)
		require.Equal(t, "true", header.Get("Idempotent-Replayed"))
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, "/v1/jobs/"+first.ID, header.Get("Location"))
		require.Equal(t, before, count(), "a replay created a job")
	})
	t.Run("same key with another body is refused", func(t *testing.T) {
		code, _, _, _ := post("key-other", validJob())
		require.Equal(t, http.StatusCreated, code)
		before := count()
		code, _, _, body := post("key-other", with("name", "something else"))
		require.Equal(t, http.StatusUnprocessableEntity, code, "body: %s", body)
		require.Contains(t, string(body), "Idempotency-Key")
		require.Equal(t, before, count())
	})
	t.Run("a key in progress gets 409", func(t *testing.T) {
		ctx := context.Background()
		tx, err := b.h.Pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		// Hold the lock a first request with this key would hold.
		_, err = tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "POST /v1/jobs bootstrap\nkey-busy")
		require.NoError(t, err)
		before := count()
		code, _, _, body := post("key-busy", validJob())
		require.Equal(t, http.StatusConflict, code, "body: %s", body)
		require.Equal(t, before, count())
	})
	t.Run("a failed request is not kept", func(t *testing.T) {
		code, _, _, _ := post("key-fix", with("name", ""))
		require.Equal(t, http.StatusUnprocessableEntity, code)
		code, _, _, _ = post("key-fix", validJob())
		require.Equal(t, http.StatusCreated, code)
	})
	t.Run("malformed key", func(t *testing.T) {
		before := count()
		code, _, _, body := post("has spaces", validJob())
		require.Equal(t, http.StatusBadRequest, code, "body: %s", body)
		require.Equal(t, before, count())
	})
}
