package handlers

import (
	"context"
	"errors"
	"net/http"

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
		return toRunResponse(run), nil
	}
}
