package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/rollout"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
	"github.com/herald-sched/herald/views"
)

// rolloutResponse is a fleet task's rollout, on its task in GET
// /v1/runs/{id}: where it stands and its waves' members by state.
type rolloutResponse struct {
	// Status is running, paused, aborted or done.
	Status string `json:"status"`
	// Reason says why it was aborted; once done, how it ended.
	Reason *string `json:"reason"`
	// Devices counts the fleet's members (fixed when the fleet task started).
	Devices int `json:"devices"`
	// WavesStarted counts the waves started.
	WavesStarted int `json:"waves_started"`
	// Waves are the members of each wave by state.
	Waves []*waveResponse `json:"waves"`
}

// waveResponse is one wave's members by state.
type waveResponse struct {
	Size      int `json:"size"`
	Waiting   int `json:"waiting"`
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// rollouts reads the rollouts of a run's fleet tasks, by task run, in q's
// snapshot.
func rollouts(ctx context.Context, q *store.Queries, runID uuid.UUID) (map[uuid.UUID]*rolloutResponse, error) {
	ros, err := q.RolloutsOfRun(ctx, runID)
	if err != nil || len(ros) == 0 {
		return nil, err
	}
	out := make(map[uuid.UUID]*rolloutResponse, len(ros))
	for _, ro := range ros {
		r := &rolloutResponse{Status: ro.Status, Reason: ro.Reason, WavesStarted: int(ro.Started), Waves: make([]*waveResponse, len(ro.Sizes))}
		for i, n := range ro.Sizes {
			r.Waves[i] = &waveResponse{Size: int(n)}
			r.Devices += int(n)
		}
		counts, err := q.RolloutCounts(ctx, ro.TaskRunID)
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			if int(c.Wave) >= len(r.Waves) {
				continue
			}
			var n rollout.Counts
			n.Add(state.Task(c.State), int(c.N))
			w := r.Waves[c.Wave]
			w.Waiting += n.Held
			w.Queued += n.Queued
			w.Running += n.Running
			w.Succeeded += n.Succeeded
			w.Failed += n.Failed
			w.Cancelled += n.Cancelled
		}
		out[ro.TaskRunID] = r
	}
	return out, nil
}

// pauseRollouts is jobs.PauseRollouts as a run control (POST
// /v1/runs/{id}/pause): 409 when the run has no running rollout.
func pauseRollouts(ctx context.Context, tx pgx.Tx, _ jobs.Inserter, id uuid.UUID) (*store.Run, error) {
	return jobs.PauseRollouts(ctx, tx, id)
}

// memberResponse is one device of a fleet task.
type memberResponse struct {
	ID         uuid.UUID  `json:"id"`
	WebhookID  string     `json:"webhook_id"`
	DeviceID   uuid.UUID  `json:"device_id"`
	DeviceName string     `json:"device_name"`
	Wave       int        `json:"wave"`
	State      state.Task `json:"state"`
	Attempts   int32      `json:"attempts"`
	LastError  *string    `json:"last_error"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

type listMembersRequest struct {
	run   uuid.UUID
	task  string
	state *string
	page  pageRequest
}

type listMembersResponse struct {
	Data       []*memberResponse `json:"data"`
	NextCursor *string           `json:"next_cursor"`
}

func parseListMembers(_ http.ResponseWriter, r *http.Request, req *listMembersRequest) error {
	id, err := parseUUID(chi.URLParam(r, "runID"), "run")
	if err != nil {
		return err
	}
	req.run, req.task = id, chi.URLParam(r, "taskID")
	if s := r.URL.Query().Get("state"); s != "" {
		if !slices.Contains(state.Tasks(), state.Task(s)) {
			return invalidFields(http.StatusBadRequest, fieldError("state", "is not a task state"))
		}
		req.state = &s
	}
	return req.page.parse(r)
}

// listMembers is GET /v1/runs/{id}/tasks/{task}/devices: a fleet task's
// members by device id, a page at a time, optionally in one state.
func (a *API) listMembers(ctx context.Context, req *listMembersRequest) (*listMembersResponse, error) {
	if err := a.seeRun(ctx, req.run); err != nil {
		return nil, err
	}
	q := store.New(a.pool)
	fleet, err := q.FleetTaskOfRun(ctx, store.FleetTaskOfRunParams{RunID: req.run, TaskID: req.task})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("fleet task " + req.task + " of run " + req.run.String())
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.ListMembers(ctx, store.ListMembersParams{FleetOf: fleet, State: req.state, After: req.page.cursor, MaxRows: int32(req.page.limit + 1)})
	if err != nil {
		return nil, err
	}
	out := &listMembersResponse{Data: []*memberResponse{}}
	for i, m := range rows {
		if i == req.page.limit {
			c := rows[i-1].DeviceID.String()
			out.NextCursor = &c
			break
		}
		out.Data = append(out.Data, &memberResponse{
			ID: m.ID, WebhookID: jobs.WebhookID(m.ID), DeviceID: m.DeviceID, DeviceName: m.DeviceName, Wave: int(m.Wave),
			State: m.State, Attempts: m.Attempts, LastError: m.LastError, StartedAt: m.StartedAt, FinishedAt: m.FinishedAt,
		})
	}
	return out, nil
}

// rolloutViews are the rollouts of a run's fleet tasks for its page, by
// task id.
func rolloutViews(ctx context.Context, q *store.Queries, runID uuid.UUID) ([]views.RolloutView, error) {
	ros, err := q.RolloutsOfRun(ctx, runID)
	if err != nil || len(ros) == 0 {
		return nil, err
	}
	byID, err := rollouts(ctx, q, runID)
	if err != nil {
		return nil, err
	}
	out := make([]views.RolloutView, 0, len(ros))
	for _, ro := range ros {
		r := byID[ro.TaskRunID]
		v := views.RolloutView{TaskID: ro.TaskID, Status: r.Status, Devices: r.Devices, WavesStarted: r.WavesStarted}
		if r.Reason != nil {
			v.Reason = *r.Reason
		}
		for _, w := range r.Waves {
			v.Waves = append(v.Waves, views.WaveView{Size: w.Size, Waiting: w.Waiting, Queued: w.Queued, Running: w.Running,
				Succeeded: w.Succeeded, Failed: w.Failed, Cancelled: w.Cancelled})
		}
		out = append(out, v)
	}
	return out, nil
}
