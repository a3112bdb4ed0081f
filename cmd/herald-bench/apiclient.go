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

const (
	// apiTimeout bounds one API request, a 10,000-task DAG's included.
	apiTimeout = 2 * time.Minute
	// apiConns is how many keep-alive connections the client keeps to herald.
	apiConns = 64
)

// refusedError is a 422 answer: herald does not accept what was sent (a
// feature not available in this version, such as DAG workflows).
type refusedError struct {
	// Detail is the problem's detail, or the raw body.
	Detail string
}

func (e *refusedError) Error() string { return "refused (422): " + e.Detail }

// apiClient calls herald's REST API with the bootstrap key, on keep-alive
// connections.
type apiClient struct {
	base string
	auth string
	http *http.Client
}

// newAPIClient returns a client of the herald at base (http://host:port).
func newAPIClient(base, apiKey string) *apiClient {
	transport := &http.Transport{
		MaxIdleConns:        apiConns,
		MaxIdleConnsPerHost: apiConns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &apiClient{
		base: base,
		auth: "Bearer " + apiKey,
		http: &http.Client{Transport: transport, Timeout: apiTimeout},
	}
}

// Post sends body (JSON, may be nil) to path and returns the status and the
// response body.
func (c *apiClient) Post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", c.auth)
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

// CreateJob registers a job (POST /v1/jobs) and returns its id. A 422
// answer is a *refusedError.
func (c *apiClient) CreateJob(ctx context.Context, body []byte) (string, error) {
	return c.postForID(ctx, "/v1/jobs", body, http.StatusCreated)
}

// TriggerRun starts a run of the job now (POST /v1/jobs/{id}/runs) and
// returns the run's id.
func (c *apiClient) TriggerRun(ctx context.Context, jobID string) (string, error) {
	return c.postForID(ctx, "/v1/jobs/"+jobID+"/runs", nil, http.StatusAccepted)
}

// Close releases the client's idle connections.
func (c *apiClient) Close() { c.http.CloseIdleConnections() }

// postForID posts and returns the "id" of the answer, which must have status want.
func (c *apiClient) postForID(ctx context.Context, path string, body []byte, want int) (string, error) {
	status, raw, err := c.Post(ctx, path, body)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", path, err)
	}
	if status == http.StatusUnprocessableEntity {
		return "", &refusedError{Detail: problemDetail(raw)}
	}
	if status != want {
		return "", fmt.Errorf("POST %s: status %d: %s", path, status, problemDetail(raw))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("POST %s: no id in the answer: %.200s", path, raw)
	}
	return out.ID, nil
}

// problemDetail returns the detail of a problem+json answer (which names
// the first invalid field); other bodies are returned as they are, shortened.
func problemDetail(raw []byte) string {
	var p struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.Detail == "" {
		return fmt.Sprintf("%.300s", raw)
	}
	return p.Detail
}
