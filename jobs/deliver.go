package jobs

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/herald-sched/herald/internal/state"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/batch"
	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/replica"
	"github.com/herald-sched/herald/internal/signing"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/internal/taskref"
)

// MaxShownResponseBytes is how much of a response each attempt shows; up to
// the dispatcher's capture (MaxResultBytes) is kept as a task's result when a
// downstream task refers to it.
const MaxShownResponseBytes = 4 << 10

// MaxResultBytes is the response capture to configure the dispatcher with:
// the largest JSON result a downstream task can refer to.
const MaxResultBytes = 64 << 10

// DeliverArgs is one task run to deliver; each River attempt is one HTTP
// request, numbered AttemptBase + River's attempt.
type DeliverArgs struct {
	// TaskRunID is the task run to deliver.
	TaskRunID uuid.UUID `json:"task_run_id"`
	// AttemptBase counts the task run's attempts before this job (a run
	// retried through the API, or a delivery reclaimed from a dead replica,
	// continues the numbering).
	AttemptBase int `json:"attempt_base,omitempty"`
	// Spent counts the attempts made before this job that count against the
	// task's max_attempts (a delivery reclaimed from a dead replica keeps
	// them; the attempt lost with the replica does not count).
	Spent int `json:"spent,omitempty"`
	// Round is the task run's round (see task_runs.round): a job of an
	// earlier round finds nothing to deliver.
	Round int `json:"round,omitempty"`
	// Host is the target's host[:port], for the per-host in-flight limit.
	Host string `json:"host,omitempty"`
	// JobID is the task run's job, for its flow limits.
	JobID uuid.UUID `json:"job_id"`
	// Flow is the job's flow control when the delivery was enqueued.
	Flow FlowLimits `json:"flow,omitzero"`
	// Solo says the run has this one task: no sibling can finish at the
	// same time, so finishing needs no run lock.
	Solo bool `json:"solo,omitempty"`
	// NotBefore is the nominal time of a delivery prepared ahead of it
	// (FireLead): the worker takes it StageLead early and sends it at this
	// time, not before.
	NotBefore time.Time `json:"not_before,omitzero"`

	// retryAt is when the failed attempt should be retried, computed by Work
	// (backoff, Retry-After) and handed to NextRetry. River passes the same
	// *Job to Work and NextRetry; it is never stored.
	retryAt time.Time
}

// Kind is the River job kind of a delivery.
func (DeliverArgs) Kind() string { return "herald.deliver" }

// InsertOpts puts deliveries on the deliver queue.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeliver}
}

// DeliverWorker makes one HTTP attempt of a task run and records it.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]

	pool       *pgxpool.Pool
	dispatcher *dispatch.Client
	logger     *slog.Logger
	hosts      *hostLimiter
	circuits   *circuits
	leaseFor   time.Duration // a max_in_flight lease: the longest attempt
	metrics    *metrics.Metrics
	signers    signerCache
	begins     *batch.Batcher[beginItem, *store.BeginAttemptsRow]
	records    *batch.Batcher[*finishItem, struct{}]
	rechecks   *batch.Batcher[uuid.UUID, state.Task]
	// tasks keeps task definitions decoded (shared values: Work copies
	// one before changing it).
	tasks *specCache[jobspec.Task]
	// live is this process's registration: its clock is the database's, and
	// its fence holds requests while the process cannot show it is alive.
	// Nil in a process without one (tests, the benchmark's baseline).
	live *replica.Replica
	// holder names this process in the leases it takes.
	holder  string
	working workingSet
	// instants holds a staged delivery's record until the other
	// deliveries of its instant are sent.
	instants instants
	// fleet is the view of the devices that targets are placed on;
	// placements counts placements (round robin's sequence).
	fleet      *device.Fleet
	placements atomic.Uint64
	// hub wakes the worker waiting for a pull-mode device's result; nil
	// keeps tasks off pull-mode devices.
	hub *notify.Hub
}

// NextRetry schedules the retry Work decided on; zero (internal errors such
// as a lost database connection) falls back to River's policy.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return job.Args.retryAt
}

// deliveryError is returned for a failed attempt that will be retried.
type deliveryError struct{ msg string }

func (e *deliveryError) Error() string { return e.msg }

// Work makes the attempt. The attempt is marked and, once made, recorded
// (with the task run's and run's outcome, and the children it releases) by
// batched writes shared with the other deliveries in flight; the River job
// then completes through River's own batched completion. A job that River
// runs again after its record was written (a crash in between) finds its task
// run finished and does nothing.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	ctx, done := w.working.add(ctx, job.ID)
	defer done()
	if park, err := w.circuits.gate(ctx, job.Args.Host, job.CreatedAt); err != nil {
		return laterIfUnavailable(ctx, err)
	} else if park > 0 {
		return river.JobSnooze(park)
	}
	round := job.Args.Spent + job.Attempt // attempts counted against max_attempts
	attempt := job.Args.AttemptBase + job.Attempt
	tr, err := w.begins.Submit(ctx, beginItem{id: job.Args.TaskRunID, round: int32(job.Args.Round), attempt: int32(attempt)})
	if err != nil {
		return laterIfUnavailable(ctx, fmt.Errorf("begin attempt: %w", err))
	}
	if tr == nil {
		return nil // finished or cancelled meanwhile: nothing to deliver
	}
	item := &finishItem{tr: tr, solo: job.Args.Solo, flow: job.Args.Flow, span: releasedBy(ctx, job.Metadata), attempt: attempt}
	describeAttempt(ctx, job.Metadata, tr, attempt)
	task, err := w.tasks.get(tr.Spec) // a copy: its URL may change below
	if err != nil {
		item.rec = attemptRecord{attempt: attempt, outcome: state.TaskFailed, err: "corrupt task definition: " + err.Error()}
		return w.finish(ctx, item)
	}
	if task.When != "" {
		if rec, err := w.condition(ctx, tr, &task, attempt); err != nil {
			return laterIfUnavailable(ctx, err)
		} else if rec != nil {
			item.rec = *rec // skipped, or failed: no request
			return w.finish(ctx, item)
		}
	}
	var dev *placed
	if task.Target != nil {
		p, decision, err := w.place(ctx, tr, task.Target)
		switch {
		case errors.Is(err, errDeviceGone):
			return river.JobSnooze(deviceWaitMax) // placed again from a newer snapshot
		case err != nil:
			return laterIfUnavailable(ctx, err)
		case p == nil:
			return w.waitForDevice(ctx, item, &task, decision.Explain())
		}
		w.metrics.Placed("placed")
		dev = p
		task.Request.URL = p.url
	}
	req, signer, err := w.buildRequest(ctx, tr, &task, attempt)
	var refErr *referenceError
	if errors.As(err, &refErr) {
		item.rec = attemptRecord{attempt: attempt, outcome: state.TaskFailed, err: err.Error()}
		return w.finish(ctx, item)
	}
	if err != nil {
		return err
	}
	sent := func() {}
	if nominal := job.Args.NotBefore; !nominal.IsZero() {
		sent = w.instants.enter(nominal, w.now())
		defer sent() // every way out counts as sent
		if err := w.awaitNominal(ctx, tr.ID, nominal); err != nil {
			return err
		}
	}
	host := job.Args.Host
	if dev != nil {
		host = device.CircuitKey(dev.device)
		if park, err := w.circuits.gate(ctx, host, job.CreatedAt); err != nil {
			return laterIfUnavailable(ctx, err)
		} else if park > 0 {
			return river.JobSnooze(park) // another delivery probes the device
		}
		admitted, err := admitDevice(ctx, w.pool, dev, tr.ID, w.holder, w.leaseFor)
		if err != nil {
			return laterIfUnavailable(ctx, err)
		}
		if !admitted {
			return river.JobSnooze(waitForSlot(job.Metadata)) // the device is at its capacity
		}
		defer releaseDeviceLease(ctx, w.pool, tr.ID, w.holder)
	}
	if !w.hosts.acquire(ctx, host, slotWait) {
		return river.JobSnooze(waitForSlot(job.Metadata))
	}
	defer w.hosts.release(host)
	if wait, err := admit(ctx, w.pool, &job.Args, w.leaseFor, w.holder, job.Metadata); err != nil {
		return laterIfUnavailable(ctx, err)
	} else if wait > 0 {
		return river.JobSnooze(wait)
	}
	defer releaseLease(ctx, w.pool, &job.Args, w.holder)
	// The fence: nothing is sent while this process cannot show that it is
	// alive (a survivor may be about to reclaim this delivery); if it was
	// declared dead, Abandon ends ctx.
	if w.live != nil {
		if err := w.live.WaitSendable(ctx); err != nil {
			return err
		}
	}

	started := w.now()
	sign(&req, signer, started)
	if attempt == 1 && tr.Trigger == TriggerSchedule && len(task.DependsOn) == 0 {
		w.metrics.FireLateness(started.Sub(tr.ScheduledFor))
	}
	w.metrics.InFlight(1)
	w.working.sending(1)
	var res dispatch.Result
	var pullErr error
	switch {
	case dev == nil:
		res = w.dispatcher.Do(ctx, req)
	default:
		sendCtx, stop := w.watchDevice(ctx, dev)
		if dev.pull {
			res, pullErr = w.pull(sendCtx, dev, tr, attempt, &req)
		} else {
			res = w.dispatcher.Do(sendCtx, req)
		}
		if deviceLeft(sendCtx) && ctx.Err() == nil {
			pullErr = errDeviceLeft
		}
		stop()
	}
	w.working.sending(-1)
	w.metrics.InFlight(-1)
	sent()
	switch {
	case errors.Is(pullErr, errDeviceLeft):
		// Placed again at once, no attempt used, from a snapshot that
		// knows the device is gone (a stale one waits out its age).
		w.metrics.Placed("replaced")
		if err := w.fleet.Refresh(ctx); err != nil {
			return river.JobSnooze(deviceWaitMax)
		}
		return river.JobSnooze(0)
	case pullErr != nil && ctx.Err() == nil:
		return laterIfUnavailable(ctx, pullErr)
	}
	if ctx.Err() != nil {
		// Shutting down or timed out by River: River puts the job back
		// (shutdown) or retries it (timeout); this attempt is not recorded.
		return ctx.Err()
	}

	rec := attemptRecord{attempt: attempt, started: started, res: &res}
	if dev != nil {
		rec.device, rec.placement = dev.device, dev.reason
		if res.StatusCode != 0 {
			w.fleet.ObserveLatency(dev.device, res.Duration)
		}
	}
	switch {
	case res.Outcome == dispatch.Success:
		rec.outcome = state.TaskSucceeded
	case res.Outcome == dispatch.Invalid:
		rec.outcome = state.TaskFailed // not sent: the task's fault, at once, never the host's
	case res.Outcome == dispatch.Retryable && round < task.Retry.MaxAttempts:
		delay := max(dispatch.Backoff(round, task.Retry.InitialInterval.Std(), task.Retry.MaxInterval.Std()), res.RetryAfter)
		job.Args.retryAt = time.Now().Add(delay) // River schedules by this process's clock
		rec.outcome = state.TaskRetrying
		rec.retryAt = &job.Args.retryAt
	default:
		rec.outcome = state.TaskFailed
	}
	rec.err = describe(&res, req.Timeout)
	if rec.outcome == state.TaskSucceeded && tr.KeepResult {
		if err := keepable(&res); err != nil {
			// The device answered, but a downstream task needs the answer
			// and herald cannot keep it: the task fails, visibly.
			rec.outcome, rec.err = state.TaskFailed, err.Error()
		}
	}
	w.metrics.Delivered(rec.outcome, res.Duration)
	if err := w.circuits.record(ctx, host, &res, rec.err); err != nil {
		w.logger.WarnContext(ctx, "endpoint health not recorded", slog.Any("error", err))
	}
	item.rec = rec
	if !job.Args.NotBefore.IsZero() {
		w.instants.wait(ctx, job.Args.NotBefore, w.now())
	}
	if err := w.finish(ctx, item); err != nil {
		job.Args.retryAt = time.Time{}
		return err
	}
	if item.rec.outcome == state.TaskRetrying {
		return &deliveryError{msg: rec.err}
	}
	return nil
}

// waitForDevice handles a task whose target has no eligible device now:
// past its valid_for it ends expired; until then it waits (snoozed, no
// worker held, no attempt used), saying why on the task run.
func (w *DeliverWorker) waitForDevice(ctx context.Context, item *finishItem, task *jobspec.Task, reason string) error {
	now := w.now()
	if expired(task, item.tr.ScheduledFor, now) {
		w.metrics.Placed("expired")
		item.rec = attemptRecord{
			attempt: item.attempt, outcome: state.TaskExpired, placement: reason,
			err: fmt.Sprintf("expired: no device was eligible within valid_for (%s): %s", task.ValidFor.Std(), reason),
		}
		return w.finish(ctx, item)
	}
	w.metrics.Placed("waiting")
	if err := store.New(w.pool).WaitingForDevice(ctx, store.WaitingForDeviceParams{ID: item.tr.ID, Reason: new("waiting for a device: " + reason)}); err != nil {
		return laterIfUnavailable(ctx, err)
	}
	return river.JobSnooze(deviceWait(task, item.tr.ScheduledFor, now))
}

// finish records the attempt through the batched recorder. An outcome
// that PostgreSQL refuses to record as it is (not an outage: the recorder
// waits those out) is recorded instead as a failure of the task, with the
// recording error, so that the run ends rather than the delivery being made
// again and again.
func (w *DeliverWorker) finish(ctx context.Context, item *finishItem) error {
	_, err := w.records.Submit(ctx, item)
	if err == nil {
		return nil
	}
	if unavailable(err) || ctx.Err() != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	w.logger.ErrorContext(ctx, "attempt outcome not recordable; the task fails with the recording error",
		slog.String("task_run_id", item.tr.ID.String()), slog.Int("attempt", item.rec.attempt), slog.Any("error", err))
	w.metrics.RecordFailed()
	rec := item.rec
	if rec.res != nil {
		res := *rec.res
		res.Body = nil // what PostgreSQL refused is most likely here
		rec.res = &res
	}
	rec.outcome, rec.retryAt = state.TaskFailed, nil
	rec.err = "herald could not record this attempt's outcome, so the task fails: " + err.Error()
	item.rec = rec
	if _, err2 := w.records.Submit(ctx, item); err2 != nil {
		return fmt.Errorf("record attempt: %w", errors.Join(err, err2))
	}
	return nil
}

// keepable says why a successful response that a downstream task refers to
// cannot be kept (PostgreSQL's jsonb refuses it); nil when it can, or when
// it is not kept as JSON at all (truncated, not JSON: the reference then
// fails when the downstream task runs, naming it).
func keepable(res *dispatch.Result) error {
	if res.Truncated || !json.Valid(res.Body) {
		return nil
	}
	if err := storableJSON(res.Body); err != nil {
		return fmt.Errorf("the response is JSON that herald cannot keep for the downstream tasks that refer to it: %w", err)
	}
	return nil
}

// now is the database's clock as this process reckons it (its own clock
// without a registration).
func (w *DeliverWorker) now() time.Time {
	if w.live != nil {
		return w.live.Now()
	}
	return time.Now()
}

// sleepUntil waits until t by the database's clock (no wait for a zero or
// past t), or ctx's end. It says whether it waited.
func (w *DeliverWorker) sleepUntil(ctx context.Context, t time.Time) (bool, error) {
	d := t.Sub(w.now())
	if d <= 0 {
		return false, nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// buildRequest assembles the attempt's HTTP request: the task's method, URL,
// headers and body, with references to upstream results filled in, plus the
// Herald-* headers. sign adds the Standard Webhooks headers when it is sent.
// An unresolvable reference is a *referenceError.
func (w *DeliverWorker) buildRequest(ctx context.Context, tr *store.BeginAttemptsRow, task *jobspec.Task, attempt int) (dispatch.Request, *signing.Signer, error) {
	previous := ""
	if tr.PreviousSecret != nil && tr.PreviousSecretExpiresAt != nil && time.Now().Before(*tr.PreviousSecretExpiresAt) {
		previous = *tr.PreviousSecret // a rotation: both keys sign
	}
	signer, err := w.signers.get(tr.Secret, previous)
	if err != nil {
		return dispatch.Request{}, nil, &referenceError{fmt.Errorf("signing secret: %w", err)}
	}
	r, err := w.resolve(ctx, tr, &task.Request)
	if err != nil {
		return dispatch.Request{}, nil, err
	}
	body, contentType := r.BodyBytes()
	h := make(http.Header, len(r.Headers)+11)
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	if contentType != "" && h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType)
	}
	h["Webhook-Id"] = []string{WebhookID(tr.ID)}
	h["Herald-Job"] = []string{tr.JobID.String()}
	h["Herald-Run"] = []string{tr.RunID.String()}
	h["Herald-Task"] = []string{tr.TaskID}
	h["Herald-Attempt"] = []string{strconv.Itoa(attempt)}
	h["Herald-Scheduled-For"] = []string{tr.ScheduledFor.UTC().Format(time.RFC3339Nano)}
	h["Traceparent"] = []string{traceparent(tr.RunID)}
	return dispatch.Request{
		Method:  r.Method,
		URL:     r.URL,
		Header:  h,
		Body:    body,
		Timeout: r.Timeout.Std(),
		TLS:     r.TLS.Dispatch(),
	}, signer, nil
}

// sign adds the Standard Webhooks timestamp and signature as of now.
func sign(req *dispatch.Request, signer *signing.Signer, now time.Time) {
	msgID := req.Header["Webhook-Id"][0]
	req.Header["Webhook-Timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	req.Header["Webhook-Signature"] = []string{signer.Sign(msgID, now, req.Body)}
}

// referenceError is a task whose request cannot be built: it fails without
// being sent.
type referenceError struct{ err error }

func (e *referenceError) Error() string { return e.err.Error() }
func (e *referenceError) Unwrap() error { return e.err }

// resolve returns the request with its references to upstream results
// ({{ tasks.<id>.body.<path> }}) and to the run's input ({{ input.<path> }})
// filled in from the run's kept results and input.
func (w *DeliverWorker) resolve(ctx context.Context, tr *store.BeginAttemptsRow, r *jobspec.Request) (*jobspec.Request, error) {
	refs, usesInput := r.Refs(), r.UsesInput()
	if len(refs) == 0 && !usesInput {
		return r, nil
	}
	var rows []store.TaskResultsRow
	if len(refs) > 0 {
		var err error
		if rows, err = store.New(w.pool).TaskResults(ctx, store.TaskResultsParams{RunID: tr.RunID, TaskIds: refs}); err != nil {
			return nil, fmt.Errorf("load upstream results: %w", err)
		}
	}
	results := make(map[string]taskref.Result, len(rows)+1)
	if usesInput {
		if err := inputResult(ctx, w.pool, tr.RunID, results); err != nil {
			return nil, err
		}
	}
	for _, row := range rows {
		if row.ResultStatus != nil {
			results[row.TaskID] = taskref.Result{Status: int(*row.ResultStatus), Body: row.ResultBody}
		}
	}
	out, err := r.Render(results)
	if err != nil {
		return nil, &referenceError{err}
	}
	return out, nil
}

// WebhookID is the Standard Webhooks message id of a task run: the same on
// every attempt, so receivers can deduplicate.
func WebhookID(taskRunID uuid.UUID) string {
	var buf [4 + 32]byte
	copy(buf[:], "msg_")
	hex.Encode(buf[4:], taskRunID[:])
	return string(buf[:])
}

type attemptRecord struct {
	attempt int
	outcome state.Task // what the attempt makes of its task run: succeeded, retrying or failed
	// device is the device the attempt went to (uuid.Nil for a URL), and
	// placement why it was chosen, or why none was.
	device    uuid.UUID
	placement string
	started   time.Time
	res       *dispatch.Result
	err       string
	retryAt   *time.Time
}

// appendTo adds the attempt of task run id to a batch of attempts.
func (r *attemptRecord) appendTo(p *store.RecordAndSettleParams, id uuid.UUID) {
	started := r.started
	if started.IsZero() {
		started = time.Now()
	}
	var (
		duration float64
		status   int32
		body     string
		cut      bool
		retryAt  time.Time
	)
	if res := r.res; res != nil {
		duration = float64(res.Duration.Microseconds()) / 1000
		status = int32(res.StatusCode)
		if res.StatusCode != 0 {
			shown := res.Body[:min(len(res.Body), MaxShownResponseBytes)]
			body = responseText(shown)
			cut = res.Truncated || len(shown) < len(res.Body)
		}
	}
	if r.retryAt != nil {
		retryAt = *r.retryAt
	}
	p.TaskRunIds = append(p.TaskRunIds, id)
	p.Attempts = append(p.Attempts, int32(r.attempt))
	p.StartedAts = append(p.StartedAts, started)
	p.DurationsMs = append(p.DurationsMs, duration)
	p.StatusCodes = append(p.StatusCodes, status)
	p.Outcomes = append(p.Outcomes, string(r.outcome)) // the attempt's outcome spells its task run's state
	p.Errors = append(p.Errors, r.err)
	p.ResponseBodies = append(p.ResponseBodies, body)
	p.ResponsesTruncated = append(p.ResponsesTruncated, cut)
	p.HasRetry = append(p.HasRetry, r.retryAt != nil)
	p.NextRetryAts = append(p.NextRetryAts, retryAt)
	p.DeviceIds = append(p.DeviceIds, r.device)
	p.Placements = append(p.Placements, r.placement)
}

// keptInTaskRun says whether the attempt, when it ends its task run, is
// kept in the task run rather than as a row of its own (RecordAndSettle):
// a success to a URL. A device's attempts keep their rows, which its page
// lists.
func (r *attemptRecord) keptInTaskRun() bool {
	return r.outcome == state.TaskSucceeded && r.device == uuid.Nil && r.placement == ""
}

// describe is the attempt's error for the API: empty on success.
func describe(res *dispatch.Result, timeout time.Duration) string {
	switch {
	case res.Outcome == dispatch.Success:
		return ""
	case errors.Is(res.Err, context.DeadlineExceeded):
		return fmt.Sprintf("timeout: no complete response within %s (request.timeout)", timeout)
	case res.Err != nil:
		return res.Err.Error()
	default:
		return fmt.Sprintf("HTTP %d %s", res.StatusCode, http.StatusText(res.StatusCode))
	}
}

// responseText keeps a response body as text for the API (and PostgreSQL's
// text type): bytes that are not UTF-8, and NULs, become U+FFFD.
func responseText(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

// unavailableSnooze is how long a delivery waits when the database is away
// before trying again (no attempt used).
const unavailableSnooze = time.Second

// unavailable reports whether err is the database being away.
func unavailable(err error) bool { return store.Unavailable(err) }

// laterIfUnavailable turns a failure of the database being away, before
// anything was sent, into a snooze: the delivery tries again soon without
// using an attempt.
func laterIfUnavailable(ctx context.Context, err error) error {
	if unavailable(err) && ctx.Err() == nil {
		return river.JobSnooze(unavailableSnooze)
	}
	return err
}
