package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/herald-sched/herald/internal/state"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// runResponse is a run as the API shows it; Tasks only on GET /v1/runs/{id}.
type runResponse struct {
	ID           uuid.UUID  `json:"id"`
	JobID        uuid.UUID  `json:"job_id"`
	Trigger      string     `json:"trigger"`
	State        state.Run  `json:"state"`
	ScheduledFor time.Time  `json:"scheduled_for"`
	CreatedAt    time.Time  `json:"created_at"`
	FinishedAt   *time.Time `json:"finished_at"`
	// Deadline is when the run times out (the job's run_timeout); null:
	// never.
	Deadline *time.Time `json:"deadline"`
	// Input is the run's input, shown by GET /v1/runs/{id} and the answer
	// to the trigger; left out when the run has none.
	Input json.RawMessage `json:"input,omitempty"`
	// DeviceZones, on the run of a device-local schedule's tick, are the
	// zones whose local tick it is: its fleet tasks' members are the
	// devices in them. Left out otherwise.
	DeviceZones []string `json:"device_zones,omitempty"`
	// Callback is the run's run-end callback, null when the run has none.
	Callback *callbackResponse  `json:"callback"`
	Tasks    []*taskRunResponse `json:"tasks,omitempty"`
}

// callbackResponse is a run's run-end callback: its state and, on GET
// /v1/runs/{id}, its attempts for the run's latest end.
type callbackResponse struct {
	// State is null until the run ends, then pending, retrying, succeeded
	// or failed.
	State     *string                    `json:"state"`
	WebhookID string                     `json:"webhook_id"`
	Attempts  []*callbackAttemptResponse `json:"attempts,omitempty"`
}

type callbackAttemptResponse struct {
	Attempt    int32     `json:"attempt"`
	StartedAt  time.Time `json:"started_at"`
	DurationMs float64   `json:"duration_ms"`
	StatusCode *int32    `json:"status_code"`
	Outcome    string    `json:"outcome"`
	Error      *string   `json:"error"`
}

func (r *runResponse) location() string { return "/v1/runs/" + r.ID.String() }

type taskRunResponse struct {
	TaskID     string             `json:"task_id"`
	ID         uuid.UUID          `json:"id"`
	WebhookID  string             `json:"webhook_id"`
	State      state.Task         `json:"state"`
	LastError  *string            `json:"last_error"`
	StartedAt  *time.Time         `json:"started_at"`
	FinishedAt *time.Time         `json:"finished_at"`
	Attempts   []*attemptResponse `json:"attempts"`
	// Rollout is a fleet task's rollout (its members are listed by GET
	// /v1/runs/{id}/tasks/{task}/devices).
	Rollout *rolloutResponse `json:"rollout,omitempty"`
}

type attemptResponse struct {
	Attempt           int32         `json:"attempt"`
	StartedAt         time.Time     `json:"started_at"`
	DurationMs        float64       `json:"duration_ms"`
	StatusCode        *int32        `json:"status_code"`
	Outcome           state.Outcome `json:"outcome"`
	Error             *string       `json:"error"`
	ResponseBody      *string       `json:"response_body"`
	ResponseTruncated bool          `json:"response_truncated"`
	NextRetryAt       *time.Time    `json:"next_retry_at"`
	// DeviceID is the device the attempt went to (a task with a target),
	// and Placement why that one, or why none was eligible.
	DeviceID  *uuid.UUID `json:"device_id,omitempty"`
	Placement *string    `json:"placement,omitempty"`
}

func toRunResponse(r *store.Run) *runResponse {
	out := &runResponse{
		ID: r.ID, JobID: r.JobID, Trigger: r.Trigger, State: r.State,
		ScheduledFor: r.ScheduledFor, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt,
		Deadline: r.Deadline, DeviceZones: r.DeviceZones,
	}
	if len(r.OnRunEnd) > 0 && string(r.OnRunEnd) != "null" && r.State != state.RunSkipped {
		out.Callback = &callbackResponse{State: r.CallbackState, WebhookID: jobs.CallbackWebhookID(r.ID, r.Round)}
	}
	return out
}

// withInput is the run's response with its input.
func withInput(r *store.Run) *runResponse {
	out := toRunResponse(r)
	if len(r.Input) > 0 && string(r.Input) != "null" {
		out.Input = r.Input
	}
	return out
}

type runIDRequest struct {
	id uuid.UUID
}

func parseRunID(_ http.ResponseWriter, r *http.Request, req *runIDRequest) error {
	id, err := parseUUID(chi.URLParam(r, "runID"), "run")
	req.id = id
	return err
}

// getRun returns the run with every task's state and attempts.
func (a *API) getRun(ctx context.Context, req *runIDRequest) (*runResponse, error) {
	if err := a.seeRun(ctx, req.id); err != nil {
		return nil, err
	}
	var out *runResponse
	// One snapshot: the run, its tasks and attempts as of one instant.
	err := pgx.BeginTxFunc(ctx, a.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := store.New(tx)
		run, err := q.GetRun(ctx, req.id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("run " + req.id.String())
		}
		if err != nil {
			return err
		}
		taskRuns, err := q.ListTaskRuns(ctx, run.ID)
		if err != nil {
			return err
		}
		attempts, err := q.ListRunAttempts(ctx, run.ID)
		if err != nil {
			return err
		}
		out = withInput(&run)
		if out.Callback != nil {
			cbs, err := q.ListCallbackAttempts(ctx, store.ListCallbackAttemptsParams{RunID: run.ID, Round: run.Round})
			if err != nil {
				return err
			}
			for _, c := range cbs {
				out.Callback.Attempts = append(out.Callback.Attempts, &callbackAttemptResponse{
					Attempt: c.Attempt, StartedAt: c.StartedAt, DurationMs: c.DurationMs,
					StatusCode: c.StatusCode, Outcome: c.Outcome, Error: c.Error,
				})
			}
		}
		fleets, err := rollouts(ctx, q, run.ID)
		if err != nil {
			return err
		}
		byID := make(map[uuid.UUID]*taskRunResponse, len(taskRuns))
		out.Tasks = make([]*taskRunResponse, len(taskRuns))
		for i, tr := range taskRuns {
			t := &taskRunResponse{
				TaskID: tr.TaskID, ID: tr.ID, WebhookID: jobs.WebhookID(tr.ID), State: tr.State,
				LastError: tr.LastError, StartedAt: tr.StartedAt, FinishedAt: tr.FinishedAt,
				Attempts: []*attemptResponse{}, Rollout: fleets[tr.ID],
			}
			out.Tasks[i] = t
			byID[tr.ID] = t
		}
		for _, at := range attempts {
			if t := byID[at.TaskRunID]; t != nil {
				t.Attempts = append(t.Attempts, &attemptResponse{
					Attempt: at.Attempt, StartedAt: at.StartedAt, DurationMs: at.DurationMs,
					StatusCode: at.StatusCode, Outcome: at.Outcome, Error: at.Error,
					ResponseBody: at.ResponseBody, ResponseTruncated: at.ResponseTruncated,
					NextRetryAt: at.NextRetryAt, DeviceID: at.DeviceID, Placement: at.Placement,
				})
			}
		}
		return nil
	})
	return out, err
}

type listRunsRequest struct {
	page     pageRequest
	jobID    *uuid.UUID
	state    *string
	from, to *time.Time
}

type listRunsResponse struct {
	Data       []*runResponse `json:"data"`
	NextCursor *string        `json:"next_cursor"`
}

func parseListRuns(_ http.ResponseWriter, r *http.Request, req *listRunsRequest) error {
	if err := req.page.parse(r); err != nil {
		return err
	}
	q := r.URL.Query()
	if s := q.Get("job_id"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return invalidFields(http.StatusBadRequest, fieldError("job_id", "is not a job id"))
		}
		req.jobID = &id
	}
	if s := q.Get("state"); s != "" {
		if !slices.Contains(state.Runs(), state.Run(s)) {
			return invalidFields(http.StatusBadRequest, fieldError("state", "must be one of "+joinStates(state.Runs())))
		}
		req.state = &s
	}
	for name, dst := range map[string]**time.Time{"from": &req.from, "to": &req.to} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return invalidFields(http.StatusBadRequest, fieldError(name, "must be an RFC 3339 time"))
			}
			*dst = &t
		}
	}
	return nil
}

func (a *API) listRuns(ctx context.Context, req *listRunsRequest) (*listRunsResponse, error) {
	p := store.ListRunsParams{
		JobID: req.jobID, State: req.state, From: req.from, To: req.to,
		Before: req.page.cursor, MaxRows: int32(req.page.limit + 1),
	}
	if pr := principal(ctx); pr.Limited() {
		p.JobLabels, _ = json.Marshal(pr.Labels)
	}
	rows, err := store.New(a.pool).ListRuns(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &listRunsResponse{Data: make([]*runResponse, 0, len(rows))}
	for i := range rows {
		if i == req.page.limit {
			out.NextCursor = new(rows[i-1].ID.String())
			break
		}
		out.Data = append(out.Data, toRunResponse(&rows[i]))
	}
	return out, nil
}

// joinStates lists states for a message: "running, queued, ...".
func joinStates[S ~string](states []S) string {
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
