package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/access"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// A key limited to labels reaches only the jobs carrying all of them, and
// their runs; any other job or run is not found to it (404), so that it
// learns nothing of their existence. These checks cost a query only for
// such keys.

// seeJob is a 404 unless the request's key reaches job id.
func (a *API) seeJob(ctx context.Context, id uuid.UUID) error {
	p := principal(ctx)
	if !p.Limited() {
		return nil
	}
	raw, err := store.New(a.pool).JobLabels(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("job " + id.String())
	}
	if err != nil {
		return err
	}
	if !p.Sees(decodeLabels(raw)) {
		return notFound("job " + id.String())
	}
	return nil
}

// seeRun is a 404 unless the request's key reaches run id's job.
func (a *API) seeRun(ctx context.Context, id uuid.UUID) error {
	p := principal(ctx)
	if !p.Limited() {
		return nil
	}
	raw, err := store.New(a.pool).RunJobLabels(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("run " + id.String())
	}
	if err != nil {
		return err
	}
	if !p.Sees(decodeLabels(raw)) {
		return notFound("run " + id.String())
	}
	return nil
}

// mayLabel is a 403 unless the request's key may give a job labels: a key
// limited to labels writes only jobs that carry them.
func mayLabel(ctx context.Context, labels map[string]string) error {
	p := principal(ctx)
	if p.Sees(labels) {
		return nil
	}
	msg := "this key reaches only jobs labelled " + access.DescribeLabels(p.Labels) + ": the job must carry them"
	return &apiError{status: http.StatusForbidden, kind: "scope", detail: msg, fields: []jobspec.FieldError{{Field: "labels", Message: msg}}}
}

// keyLabels merges the request's key's label limit into a filter of labels;
// ok is false when they contradict each other (nothing can match).
func keyLabels(ctx context.Context, filter map[string]string) (merged map[string]string, ok bool) {
	p := principal(ctx)
	if !p.Limited() {
		return filter, true
	}
	merged = make(map[string]string, len(filter)+len(p.Labels))
	for k, v := range filter {
		merged[k] = v
	}
	for k, v := range p.Labels {
		if got, set := merged[k]; set && got != v {
			return nil, false
		}
		merged[k] = v
	}
	return merged, true
}

func decodeLabels(raw []byte) map[string]string {
	l := map[string]string{}
	_ = json.Unmarshal(raw, &l)
	return l
}
