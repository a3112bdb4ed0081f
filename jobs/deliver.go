package jobs

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
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
	// retried through the API continues the numbering).
	AttemptBase int `json:"attempt_base,omitempty"`
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
}

// NextRetry schedules the retry Work decided on; zero (internal errors such
// as a lost database connection) falls back to River's policy.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return job.Args.retryAt
}

// deliveryError is returned for a failed attempt that will be retried.
type deliveryError struct{ msg string }

func (e *deliveryError) Error() string { return e.msg }

// Work makes the attempt. Success and final failure are recorded in the
// transaction that completes the River job; a retryable failure is recorded,
// then returned so that River retries it at retryAt.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	if park, err := w.circuits.gate(ctx, job.Args.Host, job.CreatedAt); err != nil {
		return err
	} else if park > 0 {
		return river.JobSnooze(park)
	}
	if !w.hosts.acquire(job.Args.Host) {
		return river.JobSnooze(waitForSlot(job.Metadata))
	}
	defer w.hosts.release(job.Args.Host)
	if wait, err := admit(ctx, w.pool, &job.Args, w.leaseFor, job.Metadata); err != nil {
		return err
	} else if wait > 0 {
		return river.JobSnooze(wait)
	}
	defer releaseLease(ctx, w.pool, &job.Args)
	q := store.New(w.pool)
	round := job.Attempt // attempts of this job, counted against max_attempts
	attempt := job.Args.AttemptBase + round
	tr, err := q.BeginAttempt(ctx, store.BeginAttemptParams{ID: job.Args.TaskRunID, Round: int32(job.Args.Round), Attempt: int32(attempt)})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // finished or cancelled meanwhile: nothing to deliver
	}
	if err != nil {
		return fmt.Errorf("begin attempt: %w", err)
	}
	var task jobspec.Task
	if err := json.Unmarshal(tr.Spec, &task); err != nil {
		return w.finish(ctx, job, &tr, attemptRecord{attempt: attempt, outcome: TaskFailed, err: "corrupt task definition: " + err.Error()})
	}

	req, err := w.buildRequest(ctx, &tr, &task, attempt)
	var refErr *referenceError
	if errors.As(err, &refErr) {
		return w.finish(ctx, job, &tr, attemptRecord{attempt: attempt, outcome: TaskFailed, err: err.Error()})
	}
	if err != nil {
		return err
	}
	started := time.Now()
	if attempt == 1 && tr.Trigger == TriggerSchedule && len(task.DependsOn) == 0 {
		w.metrics.FireLateness(started.Sub(tr.ScheduledFor))
	}
	w.metrics.InFlight(1)
	res := w.dispatcher.Do(ctx, req)
	w.metrics.InFlight(-1)
	if ctx.Err() != nil {
		// Shutting down or timed out by River: River puts the job back
		// (shutdown) or retries it (timeout); this attempt is not recorded.
		return ctx.Err()
	}

	rec := attemptRecord{attempt: attempt, started: started, res: &res}
	switch {
	case res.Outcome == dispatch.Success:
		rec.outcome = TaskSucceeded
	case res.Outcome == dispatch.Retryable && round < task.Retry.MaxAttempts:
		delay := max(dispatch.Backoff(round, task.Retry.InitialInterval.Std(), task.Retry.MaxInterval.Std()), res.RetryAfter)
		job.Args.retryAt = time.Now().Add(delay)
		rec.outcome = TaskRetrying
		rec.retryAt = &job.Args.retryAt
	default:
		rec.outcome = TaskFailed
	}
	rec.err = describe(&res, req.Timeout)
	w.metrics.Delivered(rec.outcome, res.Duration)
	if err := w.circuits.record(ctx, job.Args.Host, &res, rec.err); err != nil {
		w.logger.WarnContext(ctx, "endpoint health not recorded", slog.Any("error", err))
	}
	if rec.outcome != TaskRetrying {
		return w.finish(ctx, job, &tr, rec)
	}
	if err := w.recordRetry(ctx, &tr, rec); err != nil {
		job.Args.retryAt = time.Time{}
		return err
	}
	return &deliveryError{msg: rec.err}
}

// buildRequest assembles the attempt's HTTP request: the task's method, URL,
// headers and body, with references to upstream results filled in, plus the
// Standard Webhooks and Herald-* headers. An unresolvable reference is a
// *referenceError.
func (w *DeliverWorker) buildRequest(ctx context.Context, tr *store.BeginAttemptRow, task *jobspec.Task, attempt int) (dispatch.Request, error) {
	previous := ""
	if tr.PreviousSecret != nil && tr.PreviousSecretExpiresAt != nil && time.Now().Before(*tr.PreviousSecretExpiresAt) {
		previous = *tr.PreviousSecret // a rotation: both keys sign
	}
	signer, err := w.signers.get(tr.Secret, previous)
	if err != nil {
		return dispatch.Request{}, &referenceError{fmt.Errorf("signing secret: %w", err)}
	}
	r, err := w.resolve(ctx, tr, &task.Request)
	if err != nil {
		return dispatch.Request{}, err
	}
	body, contentType := r.BodyBytes()
	h := make(http.Header, len(r.Headers)+10)
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	if contentType != "" && h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType)
	}
	msgID := WebhookID(tr.ID)
	now := time.Now()
	h["Webhook-Id"] = []string{msgID}
	h["Webhook-Timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	h["Webhook-Signature"] = []string{signer.Sign(msgID, now, body)}
	h["Herald-Job"] = []string{tr.JobID.String()}
	h["Herald-Run"] = []string{tr.RunID.String()}
	h["Herald-Task"] = []string{tr.TaskID}
	h["Herald-Attempt"] = []string{strconv.Itoa(attempt)}
	h["Herald-Scheduled-For"] = []string{tr.ScheduledFor.UTC().Format(time.RFC3339Nano)}
	return dispatch.Request{
		Method:  r.Method,
		URL:     r.URL,
		Header:  h,
		Body:    body,
		Timeout: r.Timeout.Std(),
		TLS:     r.TLS.Dispatch(),
	}, nil
}

// referenceError is a task whose request cannot be built: it fails without
// being sent.
type referenceError struct{ err error }

func (e *referenceError) Error() string { return e.err.Error() }
func (e *referenceError) Unwrap() error { return e.err }

// resolve returns the request with its references to upstream results
// ({{ tasks.<id>.body.<path> }}) filled in from the run's kept results.
func (w *DeliverWorker) resolve(ctx context.Context, tr *store.BeginAttemptRow, r *jobspec.Request) (*jobspec.Request, error) {
	refs := r.Refs()
	if len(refs) == 0 {
		return r, nil
	}
	rows, err := store.New(w.pool).TaskResults(ctx, store.TaskResultsParams{RunID: tr.RunID, TaskIds: refs})
	if err != nil {
		return nil, fmt.Errorf("load upstream results: %w", err)
	}
	results := make(map[string]taskref.Result, len(rows))
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
	outcome string // TaskSucceeded, TaskRetrying or TaskFailed
	started time.Time
	res     *dispatch.Result
	err     string
	retryAt *time.Time
}

func (r *attemptRecord) params(taskRunID uuid.UUID) store.RecordAttemptParams {
	p := store.RecordAttemptParams{
		TaskRunID:   taskRunID,
		Attempt:     int32(r.attempt),
		StartedAt:   r.started,
		Outcome:     r.outcome,
		NextRetryAt: r.retryAt,
	}
	if p.StartedAt.IsZero() {
		p.StartedAt = time.Now()
	}
	if r.err != "" {
		p.Error = &r.err
	}
	if res := r.res; res != nil {
		p.DurationMs = float64(res.Duration.Microseconds()) / 1000
		if res.StatusCode != 0 {
			code := int32(res.StatusCode)
			p.StatusCode = &code
		}
		if res.StatusCode != 0 {
			shown := res.Body[:min(len(res.Body), MaxShownResponseBytes)]
			body := responseText(shown)
			p.ResponseBody = &body
			p.ResponseTruncated = res.Truncated || len(shown) < len(res.Body)
		}
	}
	return p
}

// finish records a final attempt (success or failure), ends the task run and,
// when it was the last task, the run, and completes the River job: one
// transaction.
func (w *DeliverWorker) finish(ctx context.Context, job *river.Job[DeliverArgs], tr *store.BeginAttemptRow, rec attemptRecord) error {
	ins, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		// The run row first: tasks of one run settle one at a time, so the
		// last one to finish sees the others finished and ends the run.
		if !job.Args.Solo {
			if _, err := q.LockRun(ctx, tr.RunID); err != nil {
				return fmt.Errorf("lock run: %w", err)
			}
		}
		if err := q.RecordAttempt(ctx, rec.params(tr.ID)); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		var lastErr *string
		if rec.outcome != TaskSucceeded {
			lastErr = &rec.err
		}
		_, err := q.FinishTaskRun(ctx, store.FinishTaskRunParams{ID: tr.ID, State: rec.outcome, LastError: lastErr})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// Cancelled meanwhile: the attempt is recorded, nothing moves on.
		case err != nil:
			return fmt.Errorf("finish task run: %w", err)
		case rec.outcome == TaskSucceeded:
			if err := advance(ctx, tx, ins, tr, job.Args.Flow, rec.res); err != nil {
				return err
			}
		default:
			if err := q.FailDescendants(ctx, store.FailDescendantsParams{ID: tr.ID, TaskID: tr.TaskID}); err != nil {
				return fmt.Errorf("fail downstream tasks: %w", err)
			}
		}
		run, err := q.SettleRun(ctx, tr.RunID)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // tasks remain
		case err != nil:
			return fmt.Errorf("settle run: %w", err)
		default:
			w.metrics.RunEnded(run.State)
			if err := maybeStartQueued(ctx, tx, ins, run.JobID, tr.Overlap); err != nil {
				return err
			}
		}
		_, err = river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
}

func (w *DeliverWorker) recordRetry(ctx context.Context, tr *store.BeginAttemptRow, rec attemptRecord) error {
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.RecordAttempt(ctx, rec.params(tr.ID)); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		if err := q.MarkTaskRunRetrying(ctx, store.MarkTaskRunRetryingParams{ID: tr.ID, LastError: &rec.err}); err != nil {
			return fmt.Errorf("mark retrying: %w", err)
		}
		return nil
	})
}

// advance moves the run on after a task succeeded: it keeps the task's
// result when a downstream template refers to it, counts the success in each
// child, and enqueues the children whose parents have all succeeded.
func advance(ctx context.Context, tx pgx.Tx, ins Inserter, tr *store.BeginAttemptRow, flow FlowLimits, res *dispatch.Result) error {
	q := store.New(tx)
	if tr.KeepResult && res != nil {
		status := int32(res.StatusCode)
		var body []byte
		if !res.Truncated && json.Valid(res.Body) {
			body = res.Body
		}
		if err := q.SaveResult(ctx, store.SaveResultParams{ID: tr.ID, ResultStatus: &status, ResultBody: body}); err != nil {
			return fmt.Errorf("keep result: %w", err)
		}
	}
	if len(tr.ChildIds) == 0 {
		return nil
	}
	children, err := q.ReleaseChildren(ctx, tr.ChildIds)
	if err != nil {
		return fmt.Errorf("release children: %w", err)
	}
	var ready []river.InsertManyParams
	for _, c := range children {
		if c.PendingParents > 0 {
			continue
		}
		var child jobspec.Task
		if err := json.Unmarshal(c.Spec, &child); err != nil {
			return fmt.Errorf("decode task %s: %w", c.ID, err)
		}
		ready = append(ready, deliveryParams(c.ID, &child, flowTarget{jobID: tr.JobID, flow: flow}, 0, int(c.Round)))
	}
	return enqueueDeliveries(ctx, tx, ins, ready)
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
