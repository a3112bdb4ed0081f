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
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// Run-end callbacks (a job's on_run_end): when a run ends, in any final
// state but skipped (a tick skipped for overlap never ran), the transaction
// that ends it enqueues a River job of its own kind; the CallbackWorker POSTs
// the run's outcome to the URL, signed with the job's secret, through the
// delivery dispatcher (SSRF guard, response cap), and retries it. Its
// webhook-id is the same on every attempt (msg_end_<run>, and _<round> for
// an end after a retry through the API), so the receiver can deduplicate:
// at least once. Each attempt is recorded (callback_attempts) with the
// callback's state on the run. A replica that dies mid-callback leaves its
// River job running until River's rescuer puts it back (--rescue-after):
// the callback is made again, same webhook-id.

// QueueCallback is the River queue of run-end callbacks.
const QueueCallback = "herald_callback"

// Callback retry policy: attempts in all, and the backoff between them
// (as for deliveries: equal jitter, Retry-After honoured).
const (
	CallbackMaxAttempts     = 8
	callbackInitialInterval = time.Second
	callbackMaxInterval     = 5 * time.Minute
	// CallbackTimeout bounds one callback attempt.
	CallbackTimeout = 30 * time.Second
	// callbackWorkers is how many callbacks a process makes at once.
	callbackWorkers = 50
)

// CallbackArgs is the run-end callback of a run's round.
type CallbackArgs struct {
	// RunID is the run that ended.
	RunID uuid.UUID `json:"run_id"`
	// Round is the run's round when it ended (ReopenRun counts them); a
	// callback of an earlier round finds nothing to do.
	Round int32 `json:"round"`

	retryAt time.Time // see DeliverArgs.retryAt
}

// Kind is the River job kind of a run-end callback.
func (CallbackArgs) Kind() string { return "herald.run_end" }

// InsertOpts puts callbacks on their own queue.
func (CallbackArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCallback, MaxAttempts: CallbackMaxAttempts}
}

// enqueueCallbacks enqueues, in tx, the callbacks of the runs that ended
// and have one.
func enqueueCallbacks(ctx context.Context, tx pgx.Tx, ins Inserter, runs []store.Run) error {
	var params []river.InsertManyParams
	for i := range runs {
		r := &runs[i]
		if !hasCallback(r.OnRunEnd) || r.State == state.RunSkipped || !r.State.Final() {
			continue
		}
		params = append(params, river.InsertManyParams{Args: CallbackArgs{RunID: r.ID, Round: r.Round}})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := ins.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue run-end callbacks: %w", err)
	}
	return nil
}

func hasCallback(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// CallbackWebhookID is the webhook-id of a run's run-end callback: the same
// on every attempt of one end of the run.
func CallbackWebhookID(runID uuid.UUID, round int32) string {
	id := "msg_end_" + hex.EncodeToString(runID[:])
	if round > 0 {
		id += "_" + strconv.Itoa(int(round))
	}
	return id
}

// RunEnded is the body of a run-end callback.
type RunEnded struct {
	// Type is "run.ended".
	Type string `json:"type"`
	// RunID, JobID, State, Trigger, ScheduledFor and FinishedAt describe
	// the run.
	RunID        uuid.UUID  `json:"run_id"`
	JobID        uuid.UUID  `json:"job_id"`
	State        state.Run  `json:"state"`
	Trigger      string     `json:"trigger"`
	ScheduledFor time.Time  `json:"scheduled_for"`
	FinishedAt   *time.Time `json:"finished_at"`
	// Tasks are the outcomes of the run's tasks, by task id.
	Tasks []TaskOutcome `json:"tasks"`
}

// TaskOutcome is how a task of an ended run ended.
type TaskOutcome struct {
	TaskID   string     `json:"task_id"`
	State    state.Task `json:"state"`
	Attempts int32      `json:"attempts"`
	// StatusCode is its last response's status; nil when none.
	StatusCode *int32 `json:"status_code"`
	// Error is its last error; nil when none.
	Error *string `json:"error"`
}

// CallbackWorker makes one attempt of a run-end callback and records it.
type CallbackWorker struct {
	river.WorkerDefaults[CallbackArgs]

	pool       *pgxpool.Pool
	dispatcher *dispatch.Client
	logger     *slog.Logger
	signers    signerCache
}

// NextRetry schedules the retry Work decided on; zero falls back to
// River's policy.
func (w *CallbackWorker) NextRetry(job *river.Job[CallbackArgs]) time.Time {
	return job.Args.retryAt
}

// Timeout bounds a job: the request's timeout plus the time to record it.
func (w *CallbackWorker) Timeout(*river.Job[CallbackArgs]) time.Duration {
	return CallbackTimeout + recordMargin
}

// Work sends the callback once and records the attempt.
func (w *CallbackWorker) Work(ctx context.Context, job *river.Job[CallbackArgs]) error {
	q := store.New(w.pool)
	t, err := q.CallbackTarget(ctx, job.Args.RunID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return laterIfUnavailable(ctx, fmt.Errorf("read run: %w", err))
	}
	if t.Round != job.Args.Round || t.CallbackState == nil || *t.CallbackState == "succeeded" || *t.CallbackState == "failed" {
		return nil // retried since, or already done (a job run again after its record)
	}
	var cb jobspec.Callback
	if err := json.Unmarshal(t.OnRunEnd, &cb); err != nil {
		return w.record(ctx, job, time.Now(), &dispatch.Result{Outcome: dispatch.Invalid}, "corrupt on_run_end: "+err.Error())
	}
	body, err := w.outcome(ctx, &t)
	if err != nil {
		return laterIfUnavailable(ctx, err)
	}
	previous := ""
	if t.PreviousSecret != nil && t.PreviousSecretExpiresAt != nil && time.Now().Before(*t.PreviousSecretExpiresAt) {
		previous = *t.PreviousSecret
	}
	signer, err := w.signers.get(t.Secret, previous)
	if err != nil {
		return w.record(ctx, job, time.Now(), &dispatch.Result{Outcome: dispatch.Invalid}, "signing secret: "+err.Error())
	}
	h := make(http.Header, len(cb.Headers)+8)
	for k, v := range cb.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h["Webhook-Id"] = []string{CallbackWebhookID(t.ID, t.Round)}
	h["Herald-Job"] = []string{t.JobID.String()}
	h["Herald-Run"] = []string{t.ID.String()}
	h["Herald-Event"] = []string{"run.ended"}
	h["Herald-Attempt"] = []string{strconv.Itoa(job.Attempt)}
	h["Traceparent"] = []string{traceparent(t.ID)}
	req := dispatch.Request{Method: http.MethodPost, URL: cb.URL, Header: h, Body: body, Timeout: CallbackTimeout}
	started := time.Now()
	sign(&req, signer, started)
	res := w.dispatcher.Do(ctx, req)
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: River puts it back, nothing recorded
	}
	return w.record(ctx, job, started, &res, describe(&res, CallbackTimeout))
}

// record writes the attempt and the callback's state, and tells River
// whether to retry.
func (w *CallbackWorker) record(ctx context.Context, job *river.Job[CallbackArgs], started time.Time, res *dispatch.Result, errText string) error {
	outcome := "failed"
	switch {
	case res.Outcome == dispatch.Success:
		outcome, errText = "succeeded", ""
	case res.Outcome == dispatch.Retryable && job.Attempt < job.MaxAttempts:
		outcome = "retrying"
		delay := max(dispatch.Backoff(job.Attempt, callbackInitialInterval, callbackMaxInterval), res.RetryAfter)
		job.Args.retryAt = time.Now().Add(delay)
	}
	p := store.RecordCallbackAttemptParams{
		RunID: job.Args.RunID, Round: job.Args.Round, Attempt: int32(job.Attempt),
		StartedAt: started, DurationMs: float64(res.Duration.Microseconds()) / 1000,
		Outcome: outcome, CallbackState: &outcome,
	}
	if res.StatusCode != 0 {
		p.StatusCode = new(int32(res.StatusCode))
	}
	if errText != "" {
		p.Error = &errText
	}
	if err := store.New(w.pool).RecordCallbackAttempt(ctx, p); err != nil {
		// Not recorded: River tries again (the same webhook-id), as it
		// would after a crash.
		job.Args.retryAt = time.Time{}
		return fmt.Errorf("record callback attempt: %w", err)
	}
	if outcome == "retrying" {
		return &deliveryError{msg: errText}
	}
	if outcome == "failed" {
		w.logger.WarnContext(ctx, "run-end callback failed", slog.String("run_id", job.Args.RunID.String()), slog.String("error", errText))
	}
	return nil
}

// outcome is the callback's body: the run and its tasks' outcomes.
func (w *CallbackWorker) outcome(ctx context.Context, t *store.CallbackTargetRow) ([]byte, error) {
	q := store.New(w.pool)
	taskRuns, err := q.ListTaskRuns(ctx, t.ID)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	attempts, err := q.ListRunAttempts(ctx, t.ID)
	if err != nil {
		return nil, fmt.Errorf("read attempts: %w", err)
	}
	last := make(map[uuid.UUID]*int32, len(taskRuns)) // ordered by attempt: the last wins
	made := make(map[uuid.UUID]int32, len(taskRuns))  // attempts recorded (a skipped task made none)
	for _, a := range attempts {
		last[a.TaskRunID] = a.StatusCode
		made[a.TaskRunID]++
	}
	out := RunEnded{
		Type: "run.ended", RunID: t.ID, JobID: t.JobID, State: t.State, Trigger: t.Trigger,
		ScheduledFor: t.ScheduledFor, FinishedAt: t.FinishedAt, Tasks: make([]TaskOutcome, len(taskRuns)),
	}
	for i, tr := range taskRuns {
		out.Tasks[i] = TaskOutcome{TaskID: tr.TaskID, State: tr.State, Attempts: made[tr.ID], StatusCode: last[tr.ID], Error: tr.LastError}
	}
	return json.Marshal(out)
}
