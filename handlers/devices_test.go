package handlers_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

type deviceBody struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels"`
	URL         *string           `json:"url"`
	Mode        string            `json:"mode"`
	Capacity    int               `json:"capacity"`
	Timezone    string            `json:"timezone"`
	State       string            `json:"state"`
	CPU         *float64          `json:"cpu"`
	Token       string            `json:"token"`
	TokenPrefix string            `json:"token_prefix"`
}

func (b *testBundle) createDevice(t *testing.T, body map[string]any) deviceBody {
	t.Helper()
	resp := b.h.Do(http.MethodPost, "/v1/devices", body)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
	var d deviceBody
	resp.JSON(t, &d)
	return d
}

// heartbeat posts a heartbeat with token.
func (b *testBundle) heartbeat(t *testing.T, id, token string, body any) *heraldtest.Response {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return b.h.DoWithHeader(http.MethodPost, "/v1/devices/"+id+"/heartbeat", body, h)
}

func TestDeviceLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	gw := b.createDevice(t, map[string]any{"name": "gw-17", "labels": map[string]any{"site": "17"}, "url": "https://gw-17.example:8443", "capacity": 2, "timezone": "Europe/Berlin"})
	require.Regexp(t, `^hd_[a-z2-7]{26}$`, gw.Token)
	require.Equal(t, "push", gw.Mode)
	require.Equal(t, "never_seen", gw.State)
	require.Equal(t, gw.Token[:9], gw.TokenPrefix)
	puller := b.createDevice(t, map[string]any{"name": "van-3", "labels": map[string]any{"site": "18"}})
	require.Equal(t, "pull", puller.Mode)
	require.Equal(t, 4, puller.Capacity, "default capacity")
	require.Equal(t, "UTC", puller.Timezone)

	// The token is shown once.
	var got deviceBody
	b.h.Do(http.MethodGet, "/v1/devices/"+gw.ID, nil).JSON(t, &got)
	require.Empty(t, got.Token)

	require.Equal(t, http.StatusNoContent, b.heartbeat(t, gw.ID, gw.Token, map[string]any{"cpu": 0.25, "memory": 0.5, "queue_depth": 3, "timezone": "Asia/Tokyo"}).Status)
	b.h.Do(http.MethodGet, "/v1/devices/"+gw.ID, nil).JSON(t, &got)
	require.Equal(t, "online", got.State)
	require.Equal(t, 0.25, *got.CPU)
	require.Equal(t, "Asia/Tokyo", got.Timezone, "a heartbeat moves the device's zone")

	var page struct {
		Data []deviceBody `json:"data"`
	}
	b.h.Do(http.MethodGet, "/v1/devices?label=site=17", nil).JSON(t, &page)
	require.Len(t, page.Data, 1)
	require.Equal(t, gw.ID, page.Data[0].ID)

	resp := b.h.Do(http.MethodPut, "/v1/devices/"+puller.ID, map[string]any{"name": "van-3", "labels": map[string]any{"site": "17"}, "capacity": 1})
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
	b.h.Do(http.MethodGet, "/v1/devices?label=site=17", nil).JSON(t, &page)
	require.Len(t, page.Data, 2)

	require.Equal(t, http.StatusNoContent, b.h.Do(http.MethodDelete, "/v1/devices/"+puller.ID, nil).Status)
	require.Equal(t, http.StatusNotFound, b.h.Do(http.MethodGet, "/v1/devices/"+puller.ID, nil).Status)
	require.Equal(t, http.StatusForbidden, b.heartbeat(t, puller.ID, puller.Token, map[string]any{"cpu": 0, "memory": 0, "queue_depth": 0}).Status,
		"a deleted device's token")
}

// A device's token reaches only its own endpoints; API keys do not reach
// them; bad heartbeats are refused naming the field, and write nothing.
func TestDeviceTokensAndHeartbeatInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.createDevice(t, map[string]any{"name": "a", "url": "https://a.example"})
	other := b.createDevice(t, map[string]any{"name": "b", "url": "https://b.example"})
	ok := map[string]any{"cpu": 0.1, "memory": 0.1, "queue_depth": 0}

	require.Equal(t, http.StatusUnauthorized, b.heartbeat(t, a.ID, "", ok).Status)
	require.Equal(t, http.StatusForbidden, b.heartbeat(t, a.ID, other.Token, ok).Status, "another device's token")
	require.Equal(t, http.StatusForbidden, b.heartbeat(t, a.ID, heraldtest.APIKey, ok).Status, "an API key")
	require.Equal(t, http.StatusForbidden, b.heartbeat(t, "01a22f28-538b-7b4f-969c-c0cc72b012d0", a.Token, ok).Status, "a device that does not exist: no more said")
	h := http.Header{"Authorization": {"Bearer " + a.Token}}
	require.Equal(t, http.StatusUnauthorized, b.h.DoWithHeader(http.MethodGet, "/v1/jobs", nil, h).Status, "a device token on the API")

	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"cpu": 1.5, "memory": 0.1, "queue_depth": 0}, "cpu"},
		{map[string]any{"cpu": 0.1, "memory": -0.1, "queue_depth": 0}, "memory"},
		{map[string]any{"cpu": 0.1, "memory": 0.1, "queue_depth": -1}, "queue_depth"},
		{map[string]any{"cpu": 0.1, "memory": 0.1}, "queue_depth"},
		{map[string]any{"cpu": 0.1, "memory": 0.1, "queue_depth": 0, "timezone": "Mars/Olympus"}, "timezone"},
	} {
		resp := b.heartbeat(t, a.ID, a.Token, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%v: %s", tc.body, resp.Body)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, tc.field, p.Errors[0].Field, "%v", tc.body)
	}
	var got deviceBody
	b.h.Do(http.MethodGet, "/v1/devices/"+a.ID, nil).JSON(t, &got)
	require.Equal(t, "never_seen", got.State, "a refused heartbeat wrote nothing")
}

func TestDeviceDefinitionIsValidated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": "x", "capacity": 0}, "capacity"},
		{map[string]any{"name": "x", "url": "ftp://x.example"}, "url"},
		{map[string]any{"name": "x", "url": "http://10.0.0.1/"}, "url"},
		{map[string]any{"name": "x", "url": "https://x.example/?q=1"}, "url"},
		{map[string]any{"name": "x", "timezone": "Nowhere/Town"}, "timezone"},
		{map[string]any{"name": "x", "labels": map[string]any{"bad key!": "v"}}, "labels.bad key!"},
	}
	for _, tt := range tests {
		resp := b.h.Do(http.MethodPost, "/v1/devices", tt.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%v: %s", tt.body, resp.Body)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, tt.field, p.Errors[0].Field, fmt.Sprint(tt.body))
	}
	var page struct {
		Data []deviceBody `json:"data"`
	}
	b.h.Do(http.MethodGet, "/v1/devices", nil).JSON(t, &page)
	require.Empty(t, page.Data, "a refused definition wrote nothing")
}
