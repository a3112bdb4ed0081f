package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/access"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// triggerRun is POST /v1/jobs/{id}/runs: a run of the job now, outside its
// schedule. Concurrent triggers share transactions (batchedTrigger); one
// with an Idempotency-Key runs in the transaction that also stores its
// response (triggerInTx).
func (a *API) triggerRun() http.HandlerFunc {
	return idempotent(a, http.StatusAccepted, a.parseTrigger, a.triggerInTx,
		endpoint(a, http.StatusAccepted, a.parseTrigger, a.batchedTrigger))
}

// MaxInputBytes is the largest run input (compact JSON): a trigger's
// "input", an inbound call's body.
const MaxInputBytes = 64 << 10

// triggerRequest is a trigger of a job, with the run's input (nil: none).
type triggerRequest struct {
	id    uuid.UUID
	input json.RawMessage
}

// triggerBody is the optional body of POST /v1/jobs/{id}/runs.
type triggerBody struct {
	// Input is the run's input, any JSON value.
	Input json.RawMessage `json:"input"`
}

func (a *API) parseTrigger(w http.ResponseWriter, r *http.Request, req *triggerRequest) error {
	id, err := parseUUID(chi.URLParam(r, "jobID"), "job")
	if err != nil {
		return err
	}
	req.id = id
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil // no body: no input
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		return decodeReadError(err, a.maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in triggerBody
	if err := decodeJSON(w, r, a.maxBody, &in); err != nil {
		return err
	}
	req.input, err = compactInput(in.Input, "input")
	return err
}

// compactInput is a run's input as stored: compact JSON, nil for none or
// null; over MaxInputBytes it is a 413 naming field.
func compactInput(raw json.RawMessage, field string) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalidFields(http.StatusBadRequest, fieldError(field, "is not valid JSON"))
	}
	if buf.Len() > MaxInputBytes {
		e := invalidFields(http.StatusRequestEntityTooLarge, fieldError(field, fmt.Sprintf("is %d bytes of JSON; a run's input is at most %d", buf.Len(), MaxInputBytes)))
		e.kind = "input-too-large"
		return nil, e
	}
	return buf.Bytes(), nil
}

// triggerInTx starts the run in tx.
func (a *API) triggerInTx(ctx context.Context, tx pgx.Tx, req *triggerRequest) (*runResponse, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	run, err := jobs.TriggerRun(ctx, tx, a.inserter, a.trigger(ctx, req))
	if err != nil {
		return nil, jobNotFound(err, req.id)
	}
	return withInput(run), nil
}

// batchedTrigger starts the run together with the triggers that arrive
// while the previous batch is written (startRuns).
func (a *API) batchedTrigger(ctx context.Context, req *triggerRequest) (*runResponse, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	a.startsOnce.Do(func() { a.starts.Start(context.Background()) })
	item := triggerItem{trigger: a.trigger(ctx, req), audit: a.batchAudit(ctx, http.StatusAccepted)}
	res, err := a.starts.Submit(ctx, item)
	if err == nil {
		err = res.err
	}
	if err != nil {
		return nil, jobNotFound(err, req.id)
	}
	auditedWithBatch(ctx, item.audit)
	return withInput(res.run), nil
}

// triggerItem is a trigger waiting for its batch, with its audit row.
type triggerItem struct {
	trigger jobs.Trigger
	audit   *access.Entry // nil outside a write request
}

func (a *API) trigger(ctx context.Context, req *triggerRequest) jobs.Trigger {
	return jobs.Trigger{JobID: req.id, At: a.now(), Parent: trace.SpanContextFromContext(ctx), Input: req.input}
}

// triggerResult is a trigger's run, or why it has none.
type triggerResult struct {
	run *store.Run
	err error
}

// startRuns starts the runs of concurrent triggers in one transaction
// (jobs.TriggerRuns): one read of their jobs, one insert of their runs, one
// of their task runs and one River insert of their deliveries, then one
// commit, instead of all of that per trigger. A trigger of a job that does
// not exist gets its 404 alone.
func (a *API) startRuns(ctx context.Context, items []triggerItem) ([]triggerResult, error) {
	out := make([]triggerResult, len(items))
	triggers := make([]jobs.Trigger, len(items))
	for i := range items {
		triggers[i] = items[i].trigger
	}
	err := store.InTx(ctx, a.pool, func(tx pgx.Tx) error {
		runs, errs, err := jobs.TriggerRuns(ctx, tx, a.inserter, triggers)
		if err != nil {
			return err
		}
		var audits []*access.Entry
		for i := range out {
			out[i] = triggerResult{run: runs[i], err: errs[i]}
			if e := items[i].audit; e != nil && runs[i] != nil {
				e.ObjectID = runs[i].ID.String()
				audits = append(audits, e)
			}
		}
		return access.AuditMany(ctx, store.Later(tx), audits) // one statement for the batch, sent with COMMIT
	})
	return out, err
}
