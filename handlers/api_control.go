package handlers

import (
	"context"
	"errors"
	"fmt"
	"github.com/herald-sched/herald/internal/state"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// runControl runs a run operation (cancel, retry) in a transaction and
// answers with the run as it then is.
func (a *API) runControl(op func(context.Context, pgx.Tx, jobs.Inserter, uuid.UUID) (*store.Run, error), status int) func(context.Context, *runIDRequest) (*runResponse, error) {
	core := func(ctx context.Context, tx pgx.Tx, req *runIDRequest) (*store.Run, error) {
		run, err := op(ctx, tx, a.inserter, req.id)
		var se *jobs.StateError
		switch {
		case errors.Is(err, jobs.ErrRunNotFound):
			return nil, notFound("run " + req.id.String())
		case errors.As(err, &se):
			return nil, &apiError{status: http.StatusConflict, kind: "run-state", detail: se.Error()}
		case errors.Is(err, jobs.ErrNoRollout):
			return nil, &apiError{status: http.StatusConflict, kind: "rollout-state", detail: err.Error()}
		}
		return run, err
	}
	return func(ctx context.Context, req *runIDRequest) (*runResponse, error) {
		if err := a.seeRun(ctx, req.id); err != nil {
			return nil, err
		}
		run, err := inTx(a, ctx, req, status, core)
		if err != nil {
			return nil, err
		}
		if run.State == state.RunCancelled {
			a.metrics.RunEnded(run.State) // once committed
		}
		return toRunResponse(run), nil
	}
}

// maxReplay bounds one bulk replay.
const maxReplay = 1000

type replayRequest struct {
	JobID *uuid.UUID `json:"job_id"`
	From  *time.Time `json:"from"`
	To    *time.Time `json:"to"`
	// Limit is the most runs to replay; nil means 100.
	Limit *int `json:"limit"`
}

type replayResponse struct {
	Replayed int         `json:"replayed"`
	RunIDs   []uuid.UUID `json:"run_ids"`
}

func (a *API) parseReplay(w http.ResponseWriter, r *http.Request, req *replayRequest) error {
	return decodeJSON(w, r, 64<<10, req)
}

// replayRuns retries, in one transaction, the failed runs matching the
// filter (job, creation time in [from, to)), oldest first, at most limit of
// them (jobs.ReplayRuns).
func (a *API) replayRuns(ctx context.Context, tx pgx.Tx, req *replayRequest) (*replayResponse, error) {
	limit := 100
	if req.Limit != nil {
		limit = *req.Limit // 0 is refused, not taken for the default
	}
	if limit < 1 || limit > maxReplay {
		return nil, invalidFields(http.StatusUnprocessableEntity, fieldError("limit", fmt.Sprintf("must be between 1 and %d", maxReplay)))
	}
	f := jobs.ReplayFilter{JobID: req.JobID, From: req.From, To: req.To, Limit: limit}
	if p := principal(ctx); p.Limited() {
		f.JobLabels = p.Labels
	}
	ids, err := jobs.ReplayRuns(ctx, tx, a.inserter, f)
	if err != nil {
		return nil, err
	}
	return &replayResponse{Replayed: len(ids), RunIDs: append([]uuid.UUID{}, ids...)}, nil
}
