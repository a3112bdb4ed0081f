package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// runControl runs a run operation (cancel, retry) in a transaction and
// answers with the run as it then is.
func (a *API) runControl(op func(context.Context, pgx.Tx, jobs.Inserter, uuid.UUID) (*store.Run, error)) func(context.Context, *runIDRequest) (*runResponse, error) {
	return func(ctx context.Context, req *runIDRequest) (*runResponse, error) {
		var run *store.Run
		err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
			var err error
			run, err = op(ctx, tx, a.inserter, req.id)
			return err
		})
		var se *jobs.StateError
		switch {
		case errors.Is(err, jobs.ErrRunNotFound):
			return nil, notFound("run " + req.id.String())
		case errors.As(err, &se):
			return nil, &apiError{status: http.StatusConflict, kind: "run-state", detail: se.Error()}
		case err != nil:
			return nil, err
		}
		if run.State == jobs.RunCancelled {
			a.metrics.RunEnded(run.State)
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

// replayRuns retries, in one transaction, the failed runs matching the filter
// (job, creation time in [from, to)), oldest first, at most limit of them.
func (a *API) replayRuns(ctx context.Context, req *replayRequest) (*replayResponse, error) {
	limit := 100
	if req.Limit != nil {
		limit = *req.Limit // 0 is refused, not taken for the default
	}
	if limit < 1 || limit > maxReplay {
		return nil, invalidFields(http.StatusUnprocessableEntity, fieldError("limit", fmt.Sprintf("must be between 1 and %d", maxReplay)))
	}
	out := &replayResponse{RunIDs: []uuid.UUID{}}
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		ids, err := store.New(tx).FailedRunsForReplay(ctx, store.FailedRunsForReplayParams{
			JobID: req.JobID, From: req.From, To: req.To, MaxRows: int32(limit),
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := jobs.RetryRun(ctx, tx, a.inserter, id); err != nil {
				return fmt.Errorf("replay run %s: %w", id, err)
			}
		}
		out.Replayed, out.RunIDs = len(ids), ids
		return nil
	})
	return out, err
}
