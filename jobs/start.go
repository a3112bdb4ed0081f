package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// RunRequest is a run to start now (StartRuns).
type RunRequest struct {
	// Job is the job to run, as read in the transaction.
	Job *store.Job
	// ScheduledFor is the run's nominal time: now, for a manual run.
	ScheduledFor time.Time
	// Parent is the span the run's span is a child of (the API request
	// that asked for it); none for a root.
	Parent trace.SpanContext
	// Input is the run's input; nil for none.
	Input json.RawMessage
	// Trigger is what started the run; TriggerManual when empty.
	Trigger string
	// ReadVersion, when set, is the version (xmin) at which Job was read
	// before tx (keptJobs): the runs' insert fails with a conflict unless
	// the job is still that version. Only a single-task job's run, not a
	// tick's, can be started so.
	ReadVersion string
}

// StartRuns starts a manual run of each request in tx, as StartRun does:
// the runs of single-task jobs with three statements for all of them (runs,
// task runs, River's insert of the deliveries), those of DAGs one by one.
// It returns the runs in the requests' order.
func StartRuns(ctx context.Context, tx pgx.Tx, ins Inserter, reqs []RunRequest) ([]*store.Run, error) {
	out := make([]*store.Run, len(reqs))
	solo := map[string]*soloRuns{} // by trigger
	index := map[uuid.UUID]int{}   // run id to request
	for i, req := range reqs {
		trigger := cmp.Or(req.Trigger, TriggerManual)
		if solo[trigger] == nil {
			solo[trigger] = &soloRuns{trigger: trigger, clock: clockOf(ins), solos: solosOf(ins)}
		}
		if id, ok := solo[trigger].add(tracerOf(ins), req.Job, req.ScheduledFor, req.Parent, req.Input); ok {
			if req.ReadVersion != "" {
				if err := solo[trigger].check(req.Job.ID, req.ReadVersion); err != nil {
					return nil, err
				}
			}
			index[id] = i
			continue
		}
		if req.ReadVersion != "" {
			return nil, fmt.Errorf("run of job %s: a job read before the transaction must have a single task", req.Job.ID)
		}
		run, err := startRun(trace.ContextWithSpanContext(ctx, req.Parent), tx, ins, req.Job, trigger, req.ScheduledFor, req.Input)
		if err != nil {
			return nil, err
		}
		out[i] = run
	}
	for _, trigger := range slices.Sorted(maps.Keys(solo)) {
		created, err := solo[trigger].create(ctx, tx, ins)
		if err != nil {
			return nil, err
		}
		for i := range created {
			out[index[created[i].ID]] = &created[i]
		}
	}
	for i, run := range out {
		if run == nil {
			return nil, fmt.Errorf("run of job %s not created", reqs[i].Job.ID)
		}
	}
	return out, nil
}

// soloRuns collects runs of single-task jobs, to create them all with two
// statements (the runs with their task runs, then River's insert of their
// deliveries): the ticker's ticks, concurrent manual triggers.
type soloRuns struct {
	trigger    string
	clock      func() time.Time // the database's clock; nil: the process's
	solos      *specCache[soloTask]
	runs       store.CreateSoloRunsParams
	jobs       []*store.Job             // by run
	deliveries []river.InsertManyParams // by run
	// checkedIDs and checkedVersions are the jobs read before the
	// transaction, with the versions read (RunRequest.ReadVersion).
	checkedIDs      []uuid.UUID
	checkedVersions []string
}

// check has the runs' insert fail unless job id is still at version.
func (s *soloRuns) check(id uuid.UUID, version string) error {
	if s.trigger == TriggerSchedule {
		return fmt.Errorf("run of job %s: a tick reads its job in its transaction", id)
	}
	s.checkedIDs = append(s.checkedIDs, id)
	s.checkedVersions = append(s.checkedVersions, version)
	return nil
}

// add collects the run of hj at at, if hj has a single task, and returns
// the run's id; ok reports whether it did. parent, when valid, is the span
// the run's span is a child of; input is the run's (nil: none).
func (s *soloRuns) add(tp trace.TracerProvider, hj *store.Job, at time.Time, parent trace.SpanContext, input json.RawMessage) (runID uuid.UUID, ok bool) {
	solo, _ := s.solos.get(hj.Tasks) // decodeSolo returns no error
	if !solo.ok {
		return uuid.Nil, false
	}
	task := solo.task
	runID, taskRunID := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	s.runs.Ids = append(s.runs.Ids, runID)
	s.runs.JobIds = append(s.runs.JobIds, hj.ID)
	s.runs.ScheduledFors = append(s.runs.ScheduledFors, at.UTC())
	s.runs.Inputs = append(s.runs.Inputs, input)
	s.runs.TaskRunIds = append(s.runs.TaskRunIds, taskRunID)
	s.runs.TaskIds = append(s.runs.TaskIds, task.ID)
	s.runs.Specs = append(s.runs.Specs, solo.raw)
	s.jobs = append(s.jobs, hj)
	ctx := context.Background()
	if parent.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, parent)
	}
	_, span := startRunSpan(ctx, tp, hj.ID, runID, s.trigger, at)
	span.End()
	target := flowTarget{jobID: hj.ID, flow: flowOf(hj), solo: true, startAt: at, clock: s.clock, trace: traceMetadata(span.SpanContext())}
	s.deliveries = append(s.deliveries, deliveryParams(taskRunID, &task, target, 0, 0))
	return runID, true
}

// create inserts the collected runs and returns those created; a tick that
// already has its run (it cannot, under the job lock, but the index has the
// last word) gets neither tasks nor deliveries.
func (s *soloRuns) create(ctx context.Context, tx pgx.Tx, ins Inserter) ([]store.Run, error) {
	if len(s.runs.Ids) == 0 {
		return nil, nil
	}
	if s.trigger != TriggerSchedule {
		return s.createTriggered(ctx, tx, ins)
	}
	s.runs.Trigger = s.trigger
	rows, err := store.New(tx).CreateSoloRuns(ctx, s.runs)
	if err != nil {
		return nil, fmt.Errorf("create runs: %w", err)
	}
	created := make([]store.Run, len(rows))
	isNew := make(map[uuid.UUID]bool, len(rows))
	for i := range rows {
		created[i] = runOf(&rows[i])
		isNew[rows[i].ID] = true
	}
	deliveries := make([]river.InsertManyParams, 0, len(created))
	for i, id := range s.runs.Ids {
		if isNew[id] {
			deliveries = append(deliveries, s.deliveries[i])
		}
	}
	if len(deliveries) == 0 {
		return created, nil
	}
	return created, enqueueDeliveries(ctx, tx, ins, deliveries)
}

// createTriggered creates runs that claim no tick, each of which is
// created (CreateTriggeredSoloRuns): their insert goes out with River's
// insert of their deliveries, in one round trip, River's NOTIFY of those
// with COMMIT, and the runs returned are built from what was inserted
// (triggeredRun).
func (s *soloRuns) createTriggered(ctx context.Context, tx pgx.Tx, ins Inserter) ([]store.Run, error) {
	now := time.Now
	if s.clock != nil {
		now = s.clock
	}
	p := store.CreateTriggeredSoloRunsParams{
		TaskRunIds: s.runs.TaskRunIds, Ids: s.runs.Ids, TaskIds: s.runs.TaskIds, Specs: s.runs.Specs,
		Trigger: s.trigger, CreatedAt: now().UTC().Truncate(time.Microsecond),
		JobIds: s.runs.JobIds, ScheduledFors: s.runs.ScheduledFors, Inputs: s.runs.Inputs,
		CheckedIds: s.checkedIDs, CheckedVersions: s.checkedVersions,
	}
	created := make([]store.Run, len(s.runs.Ids))
	for i, hj := range s.jobs {
		created[i] = triggeredRun(hj, s.runs.Ids[i], s.trigger, s.runs.ScheduledFors[i], p.CreatedAt, s.runs.Inputs[i])
		var deadline time.Time
		if created[i].Deadline != nil {
			deadline = *created[i].Deadline
		}
		p.Deadlines = append(p.Deadlines, deadline)
		p.HasDeadlines = append(p.HasDeadlines, created[i].Deadline != nil)
		p.FailureHandled = append(p.FailureHandled, created[i].FailureHandled)
		p.OnRunEnds = append(p.OnRunEnds, created[i].OnRunEnd)
	}
	if err := store.New(store.Later(tx)).CreateTriggeredSoloRuns(ctx, p); err != nil {
		return nil, fmt.Errorf("create runs: %w", err)
	}
	if err := enqueueDeliveries(ctx, tx, ins, s.deliveries); err != nil {
		return nil, fmt.Errorf("create runs: %w", err) // the insert's error, if it failed, comes back here
	}
	return created, nil
}

// triggeredRun is the run CreateTriggeredSoloRuns writes for hj at
// scheduledFor, as CreateSoloRuns would return it: times at PostgreSQL's
// precision (microseconds), the deadline hj's run timeout after
// scheduledFor. TestTriggeredRunsAreTheRowsWritten reads them back.
func triggeredRun(hj *store.Job, id uuid.UUID, trigger string, scheduledFor, createdAt time.Time, input json.RawMessage) store.Run {
	scheduledFor = scheduledFor.UTC().Truncate(time.Microsecond)
	return store.Run{
		ID: id, JobID: hj.ID, Trigger: trigger, State: state.RunRunning, ScheduledFor: scheduledFor,
		CreatedAt: createdAt, Input: input, Deadline: deadline(hj, state.RunRunning, scheduledFor),
		FailureHandled: hj.FailureHandled, OnRunEnd: hj.OnRunEnd,
	}
}

// runOf is a run as CreateSoloRuns returns it: its state is a string there
// (sqlc types runs.state, not the column of a CTE). TestRunOfCopiesEveryField
// fails when runs gains a column this does not copy.
func runOf(r *store.CreateSoloRunsRow) store.Run {
	return store.Run{
		ID: r.ID, JobID: r.JobID, Trigger: r.Trigger, State: state.Run(r.State), ScheduledFor: r.ScheduledFor,
		CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt, Input: r.Input, Deadline: r.Deadline,
		FailureHandled: r.FailureHandled, OnRunEnd: r.OnRunEnd, Round: r.Round, CallbackState: r.CallbackState,
		DeviceZones: r.DeviceZones,
	}
}
