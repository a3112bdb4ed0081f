package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// Inbound triggers: POST /v1/hooks/{job id}, without an API key. The
// caller signs the call with the job's inbound secret as herald signs its
// deliveries (Standard Webhooks: webhook-id, webhook-timestamp,
// webhook-signature over "id.timestamp.body"), verified with the Standard
// Webhooks library, within its tolerance of 5 minutes either way. A valid
// call starts a run (trigger "inbound") whose input is the call's body
// (JSON, at most MaxInputBytes; empty: no input) and answers 202 with the
// run. The webhook-id is recorded for the job in the same transaction as the
// run, kept inboundSeenFor, so that a replay (a sender's retry) within the
// tolerance starts no second run: it gets the first call's run again, with
// Idempotent-Replayed: true. Refusals write nothing: an unknown job or one
// without a hook 404, a bad signature 401, a paused job 409, a sender over
// the job's rate limit 429 with Retry-After.

// inboundSeenFor is how long an inbound webhook-id is remembered: longer
// than any call with it can verify (a timestamp up to 5 minutes in the
// future, accepted until 5 minutes in the past).
const inboundSeenFor = 15 * time.Minute

// maxInboundID bounds a webhook-id.
const maxInboundID = 255

// errReplayed ends an inbound call's transaction when its webhook-id was
// seen: nothing of it is kept.
var errReplayed = errors.New("inbound webhook-id seen")

// inbound serves POST /v1/hooks/{jobID}.
func (a *API) inbound(w http.ResponseWriter, r *http.Request) {
	if err := a.serveInbound(w, r); err != nil {
		writeError(w, r, a.logger, err)
	}
}

func (a *API) serveInbound(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := uuid.Parse(chi.URLParam(r, "jobID"))
	if err != nil {
		return notFound("inbound hook " + strconv.Quote(chi.URLParam(r, "jobID")))
	}
	if ok, wait := a.inboundLimit.allow(id); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
		return &apiError{status: http.StatusTooManyRequests, kind: "rate-limited",
			detail: fmt.Sprintf("too many calls to this job's hook: at most %g per second (burst %d) per replica", a.inboundLimit.rate, int(a.inboundLimit.burst))}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInputBytes+1<<10))
	if err != nil {
		return decodeReadError(err, MaxInputBytes)
	}
	job, err := store.New(a.pool).GetJob(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && job.InboundSecret == nil) {
		return notFound("inbound hook of job " + id.String())
	}
	if err != nil {
		return err
	}
	if err := verifyInbound(&job, body, r.Header, a.now()); err != nil {
		return &apiError{status: http.StatusUnauthorized, kind: "invalid-signature", detail: "the call's signature does not verify: " + err.Error()}
	}
	msgID := r.Header.Get("webhook-id")
	if len(msgID) > maxInboundID {
		return invalidFields(http.StatusBadRequest, fieldError("webhook-id", fmt.Sprintf("must be at most %d bytes", maxInboundID)))
	}
	if job.Paused {
		return &apiError{status: http.StatusConflict, kind: "job-paused", detail: "job " + id.String() + " is paused: resume it to accept inbound calls"}
	}
	var input []byte
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 {
		if err := checkJSON(trimmed, reflect.TypeFor[[]byte]()); err != nil {
			return err
		}
		if input, err = compactInput(trimmed, "body"); err != nil {
			return err
		}
	}
	run, replayed, err := a.startInbound(ctx, &job, msgID, input)
	if err != nil {
		return jobNotFound(err, id)
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeResponse(w, http.StatusAccepted, withInput(run))
	return nil
}

// verifyInbound checks the call's signature with the job's inbound secret,
// or, during a rotation, the previous one.
func verifyInbound(job *store.Job, body []byte, h http.Header, now time.Time) error {
	secrets := []string{*job.InboundSecret}
	if p := job.InboundPreviousSecret; p != nil && job.InboundPreviousExpiresAt != nil && now.Before(*job.InboundPreviousExpiresAt) {
		secrets = append(secrets, *p)
	}
	var err error
	for _, s := range secrets {
		wh, werr := standardwebhooks.NewWebhook(s)
		if werr != nil {
			return werr
		}
		if err = wh.Verify(body, h); err == nil {
			return nil
		}
	}
	return err
}

// startInbound starts the run of an inbound call in one transaction with
// the record of its webhook-id, or, for a webhook-id seen, returns the run
// it started (replayed).
func (a *API) startInbound(ctx context.Context, job *store.Job, msgID string, input []byte) (*store.Run, bool, error) {
	var run *store.Run
	err := store.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.ForgetInbound(ctx, job.ID); err != nil {
			return err
		}
		var err error
		run, err = jobs.TriggerRun(ctx, tx, a.inserter, jobs.Trigger{
			JobID: job.ID, At: a.now(), Parent: trace.SpanContextFromContext(ctx), Input: input, Trigger: jobs.TriggerInbound,
		})
		if err != nil {
			return err
		}
		_, err = q.SeeInbound(ctx, store.SeeInboundParams{JobID: job.ID, WebhookID: msgID, RunID: run.ID, ExpiresAt: a.now().Add(inboundSeenFor)})
		if errors.Is(err, pgx.ErrNoRows) {
			return errReplayed
		}
		return err
	})
	if !errors.Is(err, errReplayed) {
		return run, false, err
	}
	q := store.New(a.pool)
	first, err := q.SeenInbound(ctx, store.SeenInboundParams{JobID: job.ID, WebhookID: msgID})
	if err != nil {
		return nil, false, err
	}
	seen, err := q.GetRun(ctx, first)
	if err != nil {
		return nil, false, err
	}
	return &seen, true, nil
}
