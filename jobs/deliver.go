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
	"github.com/herald-sched/herald/internal/signing"
	"github.com/herald-sched/herald/internal/store"
)

// DeliverArgs is one task run to deliver; each River attempt is one HTTP
// request, and River's attempt number is herald's.
type DeliverArgs struct {
	// TaskRunID is the task run to deliver.
	TaskRunID uuid.UUID `json:"task_run_id"`

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
	q := store.New(w.pool)
	attempt := job.Attempt
	tr, err := q.BeginAttempt(ctx, store.BeginAttemptParams{ID: job.Args.TaskRunID, Attempt: int32(attempt)})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // finished or cancelled meanwhile: nothing to deliver
	}
	if err != nil {
		return fmt.Errorf("begin attempt: %w", err)
	}
	var task jobspec.Task
	if err := json.Unmarshal(tr.Spec, &task); err != nil {
		return w.finish(ctx, job, &tr, attemptRecord{outcome: TaskFailed, err: "corrupt task definition: " + err.Error()})
	}

	req, err := w.buildRequest(&tr, &task, attempt)
	if err != nil {
		return w.finish(ctx, job, &tr, attemptRecord{outcome: TaskFailed, err: err.Error()})
	}
	started := time.Now()
	res := w.dispatcher.Do(ctx, req)
	if ctx.Err() != nil {
		// Shutting down or timed out by River: River puts the job back
		// (shutdown) or retries it (timeout); this attempt is not recorded.
		return ctx.Err()
	}

	rec := attemptRecord{started: started, res: &res}
	switch {
	case res.Outcome == dispatch.Success:
		rec.outcome = TaskSucceeded
	case res.Outcome == dispatch.Retryable && attempt < task.Retry.MaxAttempts:
		delay := max(dispatch.Backoff(attempt, task.Retry.InitialInterval.Std(), task.Retry.MaxInterval.Std()), res.RetryAfter)
		job.Args.retryAt = time.Now().Add(delay)
		rec.outcome = TaskRetrying
		rec.retryAt = &job.Args.retryAt
	default:
		rec.outcome = TaskFailed
	}
	rec.err = describe(&res, req.Timeout)
	if rec.outcome != TaskRetrying {
		return w.finish(ctx, job, &tr, rec)
	}
	if err := w.recordRetry(ctx, &tr, attempt, rec); err != nil {
		job.Args.retryAt = time.Time{}
		return err
	}
	return &deliveryError{msg: rec.err}
}

// buildRequest assembles the attempt's HTTP request: the task's method, URL,
// headers and body, plus the Standard Webhooks and Herald-* headers.
func (w *DeliverWorker) buildRequest(tr *store.BeginAttemptRow, task *jobspec.Task, attempt int) (dispatch.Request, error) {
	signer, err := signing.NewSigner(tr.Secret)
	if err != nil {
		return dispatch.Request{}, fmt.Errorf("signing secret: %w", err)
	}
	body, contentType := task.Request.BodyBytes()
	h := make(http.Header, len(task.Request.Headers)+10)
	for k, v := range task.Request.Headers {
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
		Method:  task.Request.Method,
		URL:     task.Request.URL,
		Header:  h,
		Body:    body,
		Timeout: task.Request.Timeout.Std(),
	}, nil
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
	outcome string // TaskSucceeded, TaskRetrying or TaskFailed
	started time.Time
	res     *dispatch.Result
	err     string
	retryAt *time.Time
}

func (r *attemptRecord) params(taskRunID uuid.UUID, attempt int) store.RecordAttemptParams {
	p := store.RecordAttemptParams{
		TaskRunID:   taskRunID,
		Attempt:     int32(attempt),
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
			body := responseText(res.Body)
			p.ResponseBody = &body
			p.ResponseTruncated = res.Truncated
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
		if _, err := q.LockRun(ctx, tr.RunID); err != nil {
			return fmt.Errorf("lock run: %w", err)
		}
		if err := q.RecordAttempt(ctx, rec.params(tr.ID, job.Attempt)); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		var lastErr *string
		if rec.outcome != TaskSucceeded {
			lastErr = &rec.err
		}
		_, err := q.FinishTaskRun(ctx, store.FinishTaskRunParams{ID: tr.ID, State: rec.outcome, LastError: lastErr})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("finish task run: %w", err)
		}
		run, err := q.SettleRun(ctx, tr.RunID)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // tasks remain
		case err != nil:
			return fmt.Errorf("settle run: %w", err)
		default:
			if err := afterRunEnded(ctx, tx, ins, run.JobID); err != nil {
				return err
			}
		}
		_, err = river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
}

func (w *DeliverWorker) recordRetry(ctx context.Context, tr *store.BeginAttemptRow, attempt int, rec attemptRecord) error {
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.RecordAttempt(ctx, rec.params(tr.ID, attempt)); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		if err := q.MarkTaskRunRetrying(ctx, store.MarkTaskRunRetryingParams{ID: tr.ID, LastError: &rec.err}); err != nil {
			return fmt.Errorf("mark retrying: %w", err)
		}
		return nil
	})
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
