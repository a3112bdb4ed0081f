package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// deviceTimeout bounds one device request that is not a long-poll.
const deviceTimeout = 30 * time.Second

// deviceClient speaks to herald as devices do, each request with its
// device's own token: heartbeats, long-polls for tasks and their results.
// It keeps up to conns keep-alive connections, one per device that waits
// at once.
type deviceClient struct {
	base string
	http *http.Client
}

// newDeviceClient returns a client of the herald at base for up to conns
// devices talking at once.
func newDeviceClient(base string, conns int) *deviceClient {
	transport := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	// No client timeout: long-polls bound themselves (?wait=), the other
	// requests are bounded by their contexts.
	return &deviceClient{base: base, http: &http.Client{Transport: transport}}
}

// do sends a request as dev and returns the status and the body.
func (c *deviceClient) do(ctx context.Context, method, path string, dev benchDevice, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+dev.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// Heartbeat reports dev's load (POST /v1/devices/{id}/heartbeat) and
// returns the status: 204 when stored.
func (c *deviceClient) Heartbeat(ctx context.Context, dev benchDevice, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, deviceTimeout)
	defer cancel()
	status, raw, err := c.do(ctx, http.MethodPost, "/v1/devices/"+dev.ID+"/heartbeat", dev, body)
	if err != nil {
		return 0, fmt.Errorf("heartbeat: %w", err)
	}
	if status != http.StatusNoContent && status != http.StatusServiceUnavailable {
		return status, fmt.Errorf("heartbeat: status %d: %s", status, problemDetail(raw))
	}
	return status, nil
}

// pulledTask is a task a pull-mode device took, as much of it as the
// benchmark reads.
type pulledTask struct {
	LeaseID string `json:"lease_id"`
	Request struct {
		Headers map[string]string `json:"headers"`
	} `json:"request"`
}

// Pull long-polls for dev's next task (GET /v1/devices/{id}/tasks?wait=),
// and returns it; nil when none came within wait.
func (c *deviceClient) Pull(ctx context.Context, dev benchDevice, wait time.Duration) (*pulledTask, error) {
	ctx, cancel := context.WithTimeout(ctx, wait+deviceTimeout)
	defer cancel()
	status, raw, err := c.do(ctx, http.MethodGet, "/v1/devices/"+dev.ID+"/tasks?wait="+wait.String(), dev, nil)
	switch {
	case err != nil:
		return nil, fmt.Errorf("pull: %w", err)
	case status == http.StatusNoContent:
		return nil, nil
	case status != http.StatusOK:
		return nil, fmt.Errorf("pull: status %d: %s", status, problemDetail(raw))
	}
	var t pulledTask
	if err := json.Unmarshal(raw, &t); err != nil || t.LeaseID == "" {
		return nil, fmt.Errorf("pull: no lease in the answer: %.200s", raw)
	}
	return &t, nil
}

// Report reports a pulled task's result (POST .../tasks/{lease}/result):
// the device answered status with no body.
func (c *deviceClient) Report(ctx context.Context, dev benchDevice, lease string, status int) error {
	ctx, cancel := context.WithTimeout(ctx, deviceTimeout)
	defer cancel()
	got, raw, err := c.do(ctx, http.MethodPost, "/v1/devices/"+dev.ID+"/tasks/"+lease+"/result", dev, mustJSON(map[string]int{"status": status}))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if got != http.StatusNoContent {
		return fmt.Errorf("report: status %d: %s", got, problemDetail(raw))
	}
	return nil
}

// Close releases the idle connections.
func (c *deviceClient) Close() { c.http.CloseIdleConnections() }
