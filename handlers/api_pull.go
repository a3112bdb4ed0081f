package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/jobs"
)

// Long-polls of pull-mode devices: GET /v1/devices/{id}/tasks?wait=30s.
const (
	// maxPullWait bounds ?wait=.
	maxPullWait = 60 * time.Second
	// pullRecheck is how often a waiting long-poll looks for an offer
	// without being woken (a lost notification costs this much).
	pullRecheck = 2 * time.Second
)

// pulledTaskResponse is a task given to a pull-mode device.
type pulledTaskResponse struct {
	LeaseID   uuid.UUID         `json:"lease_id"`
	WebhookID string            `json:"webhook_id"`
	Deadline  time.Time         `json:"deadline"`
	Request   pulledTaskRequest `json:"request"`
}

// pulledTaskRequest is the request as herald would have pushed it. Body is
// its exact bytes as a string (what the signature covers).
type pulledTaskRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

type pullRequest struct {
	device uuid.UUID
	wait   time.Duration
}

func parsePull(_ http.ResponseWriter, r *http.Request, req *pullRequest) error {
	id, ok := deviceOf(r.Context())
	if !ok {
		return errors.New("pull without an authenticated device")
	}
	req.device = id
	if s := r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxPullWait {
			return invalidFields(http.StatusBadRequest, fieldError("wait", "must be a duration between 0s and "+maxPullWait.String()))
		}
		req.wait = d
	}
	return nil
}

// pullTasks is GET /v1/devices/{id}/tasks: 200 with a task, 204 when none
// came within ?wait.
func (a *API) pullTasks(w http.ResponseWriter, r *http.Request) {
	var req pullRequest
	if err := parsePull(w, r, &req); err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	task, err := a.pullTask(r.Context(), &req)
	switch {
	case err != nil:
		writeError(w, r, a.logger, err)
	case task == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, task)
	}
}

// pullTask gives the device its oldest offered task, waiting up to wait for
// one: 200 with the task, 204 when none came. A waiting long-poll holds no
// database connection: the process's one listening connection wakes it.
func (a *API) pullTask(ctx context.Context, req *pullRequest) (*pulledTaskResponse, error) {
	wake, stop := a.hub.Wait(notify.DeviceOffers, req.device.String())
	defer stop()
	give := time.NewTimer(req.wait)
	defer give.Stop()
	recheck := time.NewTicker(pullRecheck)
	defer recheck.Stop()
	for {
		t, err := jobs.TakeDeviceTask(ctx, a.pool, req.device, a.now())
		if err != nil || t != nil {
			return toPulledTask(t), err
		}
		select {
		case <-wake:
		case <-recheck.C:
		case <-give.C:
			return nil, nil // 204
		case <-ctx.Done():
			return nil, nil // the device went away: nothing was taken for it
		}
	}
}

func toPulledTask(t *jobs.PulledTask) *pulledTaskResponse {
	if t == nil {
		return nil
	}
	h := make(map[string]string, len(t.Header))
	for k, v := range t.Header {
		if len(v) > 0 {
			h[k] = v[0]
		}
	}
	return &pulledTaskResponse{
		LeaseID: t.LeaseID, WebhookID: t.WebhookID, Deadline: t.Deadline,
		Request: pulledTaskRequest{Method: t.Method, Path: t.Path, Headers: h, Body: string(t.Body)},
	}
}

// maxPulledResult bounds a reported result body: what herald keeps of a
// response (64 KiB) and some room for its JSON encoding.
const maxPulledResult = 256 << 10

// resultRequest is a pull-mode device's report of a task's result.
type resultRequest struct {
	device, lease uuid.UUID
	// Status is the HTTP status the device would have answered.
	Status *int `json:"status"`
	// Body is what it would have answered: any JSON value (a string is kept
	// as its text).
	Body json.RawMessage `json:"body"`
}

func (a *API) parseResult(w http.ResponseWriter, r *http.Request, req *resultRequest) error {
	id, ok := deviceOf(r.Context())
	if !ok {
		return errors.New("result without an authenticated device")
	}
	req.device = id
	lease, err := uuid.Parse(chi.URLParam(r, "leaseID"))
	if err != nil {
		return notFound("lease " + chi.URLParam(r, "leaseID"))
	}
	req.lease = lease
	if err := decodeJSON(w, r, maxPulledResult, req); err != nil {
		return err
	}
	if req.Status == nil || *req.Status < 100 || *req.Status > 599 {
		return invalidFields(http.StatusUnprocessableEntity, fieldError("status", "required, an HTTP status between 100 and 599"))
	}
	return nil
}

// reportResult records a pulled task's result; 409 for a lease that is not
// the device's, not taken, or past its deadline.
func (a *API) reportResult(ctx context.Context, req *resultRequest) (*struct{}, error) {
	body := []byte(req.Body)
	if len(body) > 0 && body[0] == '"' {
		var s string
		if json.Unmarshal(body, &s) == nil {
			body = []byte(s)
		}
	}
	err := jobs.ReportDeviceTask(ctx, a.pool, req.device, req.lease, *req.Status, body)
	if errors.Is(err, jobs.ErrLeaseGone) {
		return nil, &apiError{status: http.StatusConflict, kind: "lease-gone", detail: "this lease is not this device's, was not taken, or its deadline passed: the task went back to herald"}
	}
	return nil, err
}
