package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/herald-sched/herald/internal/state"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// Inserter is the part of a River client that enqueues and cancels jobs in
// a transaction. *river.Client[pgx.Tx] implements it, whether or not it
// works jobs.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobCancelTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
}

// Run triggers.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	// TriggerInbound is a run started by a signed call to the job's hook
	// (POST /v1/hooks/{job id}).
	TriggerInbound = "inbound"
)

// crashSlack is how many River attempts a delivery job has beyond its task's
// max_attempts: an attempt lost with a killed process (River's rescuer puts
// the job back with its attempt consumed) is made again instead of being lost.
const crashSlack = 2

// ErrTickTaken is returned by StartRun when the scheduled tick already has its run.
var ErrTickTaken = errors.New("tick already has a run")

// StartRun creates a run of job, its task runs, and the delivery jobs of the
// tasks that depend on nothing, all in tx. scheduledFor is the nominal fire
// time (the trigger time for manual runs). For a scheduled tick that already
// has its run it returns ErrTickTaken and writes nothing.
func StartRun(ctx context.Context, tx pgx.Tx, ins Inserter, job *store.Job, trigger string, scheduledFor time.Time) (*store.Run, error) {
	return startRun(ctx, tx, ins, job, trigger, scheduledFor, nil)
}

// startRun is StartRun with the run's input (nil: none).
func startRun(ctx context.Context, tx pgx.Tx, ins Inserter, job *store.Job, trigger string, scheduledFor time.Time, input json.RawMessage) (*store.Run, error) {
	run, err := createRun(ctx, tx, job, trigger, state.RunRunning, scheduledFor, input, nil)
	if err != nil {
		return nil, err
	}
	ctx, span := startRunSpan(ctx, tracerOf(ins), job.ID, run.ID, trigger, scheduledFor)
	defer span.End()
	return run, beginRun(ctx, tx, ins, run, job)
}

// tracerOf is the tracer provider of herald's client, nil for another
// Inserter.
func tracerOf(ins Inserter) trace.TracerProvider {
	if c, ok := ins.(*Client); ok {
		return c.tracer
	}
	return nil
}

// createRun inserts a run of job in the given state, without tasks, with
// its input (nil: none). The run keeps the job's failure_handled and
// on_run_end; running, its deadline is the job's run_timeout from its
// nominal time (a queued run's, from its start). zones, for the tick of a
// device-local schedule, restrict its fleets to the devices in them.
func createRun(ctx context.Context, tx pgx.Tx, job *store.Job, trigger string, st state.Run, scheduledFor time.Time, input json.RawMessage, zones []string) (*store.Run, error) {
	run, err := store.New(tx).CreateRun(ctx, store.CreateRunParams{
		ID:             uuid.Must(uuid.NewV7()),
		JobID:          job.ID,
		Trigger:        trigger,
		State:          st,
		ScheduledFor:   scheduledFor.UTC(),
		Input:          input,
		Deadline:       deadline(job, st, scheduledFor),
		FailureHandled: job.FailureHandled,
		OnRunEnd:       job.OnRunEnd,
		DeviceZones:    zones,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrTickTaken
	}
	if err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	return &run, nil
}

// deadline is when a run of job in state st, due at scheduledFor, times
// out: nil without a run_timeout, or for a run not running yet.
func deadline(job *store.Job, st state.Run, scheduledFor time.Time) *time.Time {
	if job.RunTimeoutMs == nil || st != state.RunRunning {
		return nil
	}
	d := scheduledFor.UTC().Add(time.Duration(*job.RunTimeoutMs) * time.Millisecond)
	return &d
}

// beginRun creates the task runs of run from the job's task definitions
// (as they are now: the run keeps them whatever happens to the job later) and enqueues the deliveries of the tasks that depend on nothing,
// in batches. Each task run knows its children and counts its parents.
func beginRun(ctx context.Context, tx pgx.Tx, ins Inserter, run *store.Run, job *store.Job) error {
	var tasks []jobspec.Task
	if err := json.Unmarshal(job.Tasks, &tasks); err != nil {
		return fmt.Errorf("decode tasks of job %s: %w", run.JobID, err)
	}
	target := flowTarget{
		jobID: job.ID, flow: flowOf(job), solo: len(tasks) == 1 && !tasks[0].IsFleet(), startAt: run.ScheduledFor, clock: clockOf(ins),
		trace: traceMetadata(trace.SpanContextFromContext(ctx)),
	}
	g, err := jobspec.Graph(tasks)
	if err != nil {
		return fmt.Errorf("graph of job %s: %w", run.JobID, err)
	}
	kept := jobspec.ReferencedTasks(tasks)
	ids := make([]uuid.UUID, len(tasks))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	rows := make([]store.CreateTaskRunsParams, len(tasks))
	var deliveries []river.InsertManyParams
	var fleets []int // tasks with a fleet target that depend on nothing
	for i := range tasks {
		t := &tasks[i]
		spec, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode task %s: %w", t.ID, err)
		}
		children := g.Children(i)
		childIDs := make([]uuid.UUID, len(children))
		for k, c := range children {
			childIDs[k] = ids[c]
		}
		rows[i] = store.CreateTaskRunsParams{
			ID: ids[i], RunID: run.ID, TaskID: t.ID, Spec: spec, State: state.TaskWaiting,
			PendingParents: int32(len(g.Parents(i))), ChildIds: childIDs, KeepResult: kept[t.ID],
			RunIf: t.RunIfOrDefault(),
		}
		switch {
		case len(g.Parents(i)) > 0:
		case t.IsFleet():
			rows[i].State = state.TaskPending
			fleets = append(fleets, i)
		default:
			rows[i].State = state.TaskPending
			deliveries = append(deliveries, deliveryParams(ids[i], t, target, 0, 0))
		}
	}
	if err := createTaskRuns(ctx, tx, rows, len(deliveries)+len(fleets) == len(rows)); err != nil {
		return err
	}
	for _, i := range fleets {
		if err := startFleet(ctx, tx, ins, run.ID, job.ID, ids[i], &tasks[i], deliveryTrace{run: trace.SpanContextFromContext(ctx)}); err != nil {
			return err
		}
	}
	return enqueueDeliveries(ctx, tx, ins, deliveries)
}

// flowTarget is the job a delivery counts against, with its limits, and
// whether its run has this one task only.
type flowTarget struct {
	jobID   uuid.UUID
	flow    FlowLimits
	solo    bool
	startAt time.Time        // the run's nominal time: deliveries do not start before it
	clock   func() time.Time // the database's clock; nil: the process's
	trace   []byte           // River metadata linking the delivery to its run's or parent's span
}

func (t flowTarget) now() time.Time {
	if t.clock != nil {
		return t.clock()
	}
	return time.Now()
}

// createTaskRuns inserts a run's task runs: with one INSERT when there are
// a few without dependencies (a single-task job, the common case), else
// with COPY, whose three round trips pay off for DAGs.
func createTaskRuns(ctx context.Context, tx pgx.Tx, rows []store.CreateTaskRunsParams, independent bool) error {
	q := store.New(tx)
	if !independent || len(rows) > 100 {
		if _, err := q.CreateTaskRuns(ctx, rows); err != nil {
			return fmt.Errorf("create task runs: %w", err)
		}
		return nil
	}
	p := store.CreateTaskRunsFewParams{RunID: rows[0].RunID}
	for _, r := range rows {
		p.Ids = append(p.Ids, r.ID)
		p.TaskIds = append(p.TaskIds, r.TaskID)
		p.Specs = append(p.Specs, r.Spec)
		p.States = append(p.States, string(r.State))
		p.PendingParents = append(p.PendingParents, r.PendingParents)
		p.KeepResults = append(p.KeepResults, r.KeepResult)
		p.RunIfs = append(p.RunIfs, r.RunIf)
	}
	// Sent with the transaction's next statement (River's insert of the
	// deliveries), which its error, if any, fails.
	if err := store.New(store.Later(tx)).CreateTaskRunsFew(ctx, p); err != nil {
		return fmt.Errorf("create task runs: %w", err)
	}
	return nil
}

// deliveryParams is the River job of a task run's delivery. attemptBase
// counts the attempts made before, in earlier rounds (a retried run).
func deliveryParams(taskRunID uuid.UUID, t *jobspec.Task, target flowTarget, attemptBase, round int) river.InsertManyParams {
	host := ""
	if u, err := url.Parse(t.Request.URL); err == nil {
		host = u.Host
	}
	var at, notBefore time.Time
	if now := target.now(); target.startAt.After(now) {
		// A tick handled ahead of its time (FireLead): a worker takes it
		// StageLead early and sends it at the nominal time.
		notBefore = target.startAt
		if stage := target.startAt.Add(-StageLead); stage.After(now) {
			at = stage
		}
	}
	return river.InsertManyParams{
		Args: DeliverArgs{
			TaskRunID: taskRunID, AttemptBase: attemptBase, Round: round, Host: host,
			JobID: target.jobID, Flow: target.flow, Solo: target.solo, NotBefore: notBefore,
		},
		InsertOpts: &river.InsertOpts{MaxAttempts: t.Retry.MaxAttempts + crashSlack, ScheduledAt: at, Metadata: target.trace},
	}
}

// insertBatch is how many deliveries one insert enqueues.
const insertBatch = 1000

// enqueueDeliveries inserts deliveries in batches of insertBatch. River's
// NOTIFY of the new jobs (an Exec) waits for the transaction's next
// statement or its COMMIT (store.Later): PostgreSQL delivers it at COMMIT
// anyway, and it then costs no round trip of its own.
func enqueueDeliveries(ctx context.Context, tx pgx.Tx, ins Inserter, deliveries []river.InsertManyParams) error {
	tx = store.Later(tx)
	for len(deliveries) > 0 {
		n := min(len(deliveries), insertBatch)
		if _, err := ins.InsertManyTx(ctx, tx, deliveries[:n]); err != nil {
			return fmt.Errorf("enqueue deliveries: %w", err)
		}
		deliveries = deliveries[n:]
	}
	return nil
}

// afterRunEnded starts the job's oldest queued run (overlap=queue) now that
// one of its runs has ended. It locks the job row, as the ticker does
// when it queues a run, so that a run queued concurrently is not left behind.
func afterRunEnded(ctx context.Context, tx pgx.Tx, ins Inserter, jobID uuid.UUID) error {
	q := store.New(tx)
	hj, err := q.LockJob(ctx, jobID)
	if err != nil {
		return fmt.Errorf("lock job: %w", err)
	}
	queued, err := q.OldestQueuedRun(ctx, jobID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find queued run: %w", err)
	}
	active, err := q.CountActiveRuns(ctx, jobID)
	if err != nil {
		return fmt.Errorf("count active runs: %w", err)
	}
	if active.Running > 0 {
		return nil // another run (a manual one) is still going; it will start it
	}
	if err := q.SetRunRunning(ctx, queued.ID); err != nil {
		return fmt.Errorf("start queued run: %w", err)
	}
	queued.State = state.RunRunning
	ctx, span := startRunSpan(ctx, tracerOf(ins), hj.ID, queued.ID, queued.Trigger, queued.ScheduledFor)
	defer span.End()
	return beginRun(ctx, tx, ins, &queued, &hj)
}

// FireLead is how long before its nominal time a tick of a job with
// overlap=allow is handled: its run is created and its deliveries enqueued
// for the nominal time, so that at that time only the delivery itself is
// left to do. Jobs with overlap skip or queue are handled at the nominal
// time, when the previous run's state is known. The half second keeps the
// ticker's claim of whole-second ticks (most cron schedules) away from the
// instant the previous whole second's deliveries are sent.
const FireLead = 1500 * time.Millisecond

// StageLead is how long before its nominal time a delivery prepared ahead
// (FireLead) is taken by a worker: the worker marks the attempt, builds the
// request and waits, then signs and sends it at the nominal time. It covers
// River's fetch poll and the batched database work of many deliveries due in
// the same instant.
const StageLead = 250 * time.Millisecond
