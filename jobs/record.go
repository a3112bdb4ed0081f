package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/herald-sched/herald/internal/state"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/metrics"
	"github.com/herald-sched/herald/internal/store"
)

// beginItem is a delivery about to make an attempt.
type beginItem struct {
	id      uuid.UUID
	round   int32
	attempt int32
}

// beginAttempts marks many task runs as running for their attempts, in one
// statement, and returns what each delivery needs, nil for a task run that
// is no longer deliverable (finished, cancelled, or of an earlier round).
func beginAttempts(ctx context.Context, pool *pgxpool.Pool, items []beginItem) ([]*store.BeginAttemptsRow, error) {
	p := store.BeginAttemptsParams{
		Ids:      make([]uuid.UUID, len(items)),
		Rounds:   make([]int32, len(items)),
		Attempts: make([]int32, len(items)),
	}
	for i, it := range items {
		p.Ids[i], p.Rounds[i], p.Attempts[i] = it.id, it.round, it.attempt
	}
	rows, err := store.New(pool).BeginAttempts(ctx, p)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*store.BeginAttemptsRow, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	out := make([]*store.BeginAttemptsRow, len(items))
	for i, it := range items {
		out[i] = byID[it.id]
	}
	return out, nil
}

// finishItem is an attempt made (or a task that failed without one) to
// record.
type finishItem struct {
	tr      *store.BeginAttemptsRow
	rec     attemptRecord
	solo    bool          // the run has this one task
	flow    FlowLimits    // the job's flow limits, for the children it releases
	span    deliveryTrace // the run's span and the attempt's, for the children it releases
	attempt int           // the attempt's number
	// noAttempt: the task ended without an attempt of its own (a fleet
	// task, whose members made them): no attempt row.
	noAttempt bool
}

// recorder writes the outcome of many attempts in one transaction: the
// attempts, their task runs (ended, or retrying), the children that
// succeeded parents release (enqueued in the same transaction), the
// descendants of failed tasks (upstream_failed), the runs that have nothing
// left to run, and the start of runs queued behind them (overlap=queue).
type recorder struct {
	pool    *pgxpool.Pool
	client  Inserter
	metrics *metrics.Metrics
}

// record writes items in one transaction. While the database is away it
// tries again (backing off up to unavailableBackoffMax) for as long as the
// process runs: these attempts were made, and their outcomes are recorded
// when the database returns, not made again.
func (r *recorder) record(ctx context.Context, items []*finishItem) ([]struct{}, error) {
	var ended []store.Run
	backoff := unavailableBackoffMin
	for {
		err := store.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
			var err error
			ended, err = r.write(ctx, tx, items)
			return err
		})
		if err == nil {
			break
		}
		if !unavailable(err) || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
		backoff = min(2*backoff, unavailableBackoffMax)
	}
	for i := range ended {
		r.metrics.RunEnded(ended[i].State)
	}
	return make([]struct{}, len(items)), nil
}

func (r *recorder) write(ctx context.Context, tx pgx.Tx, items []*finishItem) ([]store.Run, error) {
	q := store.New(tx)
	// later holds LockRuns and SaveResult for the next statement: in the
	// same round trip, before it, so in the same order.
	later := store.New(store.Later(tx))
	// The runs of DAG tasks first, in id order: tasks of one run settle one
	// batch at a time, so that the last to finish sees the others finished.
	var locks []uuid.UUID
	for _, it := range items {
		if !it.solo {
			locks = append(locks, it.tr.RunID)
		}
	}
	if len(locks) > 0 {
		slices.SortFunc(locks, compareUUID)
		if err := later.LockRuns(ctx, slices.Compact(locks)); err != nil {
			return nil, fmt.Errorf("lock runs: %w", err)
		}
	}

	var settle store.RecordAndSettleParams
	for _, it := range items {
		// ok: the attempt kept in the task run, if it succeeds by it.
		var ok int32
		if it.rec.outcome != state.TaskSkipped && !it.noAttempt { // a skipped task made no attempt
			it.rec.appendTo(&settle, it.tr.ID)
			inline := it.rec.keptInTaskRun()
			settle.Inline = append(settle.Inline, inline)
			if inline {
				ok = int32(len(settle.TaskRunIds))
			}
		}
		settle.OkIndexes = append(settle.OkIndexes, ok)
		settle.Ids = append(settle.Ids, it.tr.ID)
		settle.States = append(settle.States, string(it.rec.outcome))
		errText := ""
		if it.rec.outcome != state.TaskSucceeded {
			errText = it.rec.err
		}
		settle.LastErrors = append(settle.LastErrors, errText)
		settle.LatestAttempts = append(settle.LatestAttempts, int32(it.rec.attempt))
	}
	// Which task runs moved matters to DAG tasks (their children, their
	// runs) and to EndSoloRuns. A small batch of single-task runs holds
	// RecordAndSettle for EndCheckedSoloRuns, which finds them by itself,
	// in one round trip (recordBlindMax).
	blind := len(locks) == 0 && len(items) <= recordBlindMax
	record := q
	if blind {
		record = store.New(store.Blind(tx))
	}
	changed, err := record.RecordAndSettle(ctx, settle)
	if err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	moved := make(map[uuid.UUID]bool, len(changed))
	for _, id := range changed {
		moved[id] = true
	}

	var (
		adv      = advance{origin: map[uuid.UUID]childOrigin{}}
		runs     []uuid.UUID // DAG runs, to settle
		children []uuid.UUID // the children of their tasks that finished
		solo     store.EndSoloRunsParams
		checked  store.EndCheckedSoloRunsParams // blind
	)
	for _, it := range items {
		if it.rec.outcome == state.TaskRetrying {
			continue
		}
		if blind { // each is ended only if its task run moved: EndCheckedSoloRuns checks
			checked.Ids = append(checked.Ids, it.tr.RunID)
			checked.States = append(checked.States, string(soloRunState(it.rec.outcome)))
			checked.TaskRunIds = append(checked.TaskRunIds, it.tr.ID)
			checked.TaskStates = append(checked.TaskStates, string(it.rec.outcome))
			checked.Attempts = append(checked.Attempts, int32(it.rec.attempt))
			continue
		}
		// A task run cancelled meanwhile keeps its state: the attempt is
		// recorded, nothing moves on.
		if !moved[it.tr.ID] {
			continue
		}
		if it.solo {
			solo.Ids = append(solo.Ids, it.tr.RunID)
			solo.States = append(solo.States, string(soloRunState(it.rec.outcome)))
			continue
		}
		runs = append(runs, it.tr.RunID)
		if err := keepResult(ctx, later, it); err != nil {
			return nil, err
		}
		if len(it.tr.ChildIds) == 0 {
			continue
		}
		children = append(children, it.tr.ChildIds...)
		from := childOrigin{job: it.tr.JobID, flow: it.flow, span: it.span}
		if it.rec.outcome.Failure() {
			adv.failed = append(adv.failed, failedTask{id: it.tr.ID, taskID: it.tr.TaskID, from: from})
			continue
		}
		adv.finished(it.tr.ChildIds, from)
	}
	if err := r.advance(ctx, tx, &adv); err != nil {
		return nil, err
	}
	var ended []store.Run
	// queued: the jobs of the single-task runs ended (ended[:len(ended)]
	// before the DAG runs are added) that have a run queued, as EndSoloRuns
	// says.
	var queued []uuid.UUID
	endedSolo := func(run store.Run, jobHasQueued bool) {
		ended = append(ended, run)
		if jobHasQueued {
			queued = append(queued, run.JobID)
		}
	}
	if len(solo.Ids) > 0 {
		rows, err := q.EndSoloRuns(ctx, solo)
		if err != nil {
			return nil, fmt.Errorf("end runs: %w", err)
		}
		for _, row := range rows {
			endedSolo(row.Run, row.JobHasQueued)
		}
	}
	if len(checked.Ids) > 0 {
		rows, err := q.EndCheckedSoloRuns(ctx, checked)
		if err != nil {
			return nil, fmt.Errorf("end runs: %w", err)
		}
		for _, row := range rows {
			endedSolo(row.Run, row.JobHasQueued)
		}
	}
	soloEnded := len(ended)
	if len(runs) > 0 && len(children) > 0 {
		// A run with a child of a task that finished here still waiting or
		// released (pending) cannot end: that child's own end settles it.
		// SettleRuns reads all of a run's task runs, so that a DAG settles
		// it once rather than at every hop.
		open, err := q.RunsWithUnsettledTasks(ctx, children)
		if err != nil {
			return nil, fmt.Errorf("find open runs: %w", err)
		}
		runs = slices.DeleteFunc(runs, func(id uuid.UUID) bool { return slices.Contains(open, id) })
	}
	if len(runs) > 0 {
		slices.SortFunc(runs, compareUUID)
		settled, err := q.SettleRuns(ctx, slices.Compact(runs))
		if err != nil {
			return nil, fmt.Errorf("settle runs: %w", err)
		}
		ended = append(ended, settled...)
	}
	if err := enqueueCallbacks(ctx, tx, r.client, ended); err != nil {
		return nil, err
	}
	if err := r.startQueued(ctx, tx, ended, items, soloEnded, queued); err != nil {
		return nil, err
	}
	return ended, nil
}

// recordBlindMax is the largest batch of single-task runs whose record is
// held for their end (EndCheckedSoloRuns): that saves a round trip per
// batch and costs a read of each task run, about 0.012 ms of statement
// time per run (short runs of herald-bench, BENCHMARKS.md), which 16 runs
// do not outweigh and a hundred do.
const recordBlindMax = 16

// Backoff of writes retried while the database is away.
const (
	unavailableBackoffMin = 100 * time.Millisecond
	unavailableBackoffMax = 2 * time.Second
)

// keepResult keeps a finished task's response (its status, and its body
// when it is JSON that jsonb takes) when a downstream template or condition
// refers to it: a failure handler (run_if any_failed, all_done) may look at
// what a failed parent answered.
func keepResult(ctx context.Context, q *store.Queries, it *finishItem) error {
	res := it.rec.res
	if !it.tr.KeepResult || res == nil || res.StatusCode == 0 {
		return nil
	}
	status := int32(res.StatusCode)
	var body []byte
	if !res.Truncated && json.Valid(res.Body) && storableJSON(res.Body) == nil {
		body = res.Body
	}
	if err := q.SaveResult(ctx, store.SaveResultParams{ID: it.tr.ID, ResultStatus: &status, ResultBody: body}); err != nil {
		return fmt.Errorf("keep result: %w", err)
	}
	return nil
}

// childOrigin is what a released child takes from the task that released
// it: its job (for flow limits), the job's flow limits, and where its
// attempts go in the run's trace (the run's span, following the attempt
// that released it).
type childOrigin struct {
	job  uuid.UUID
	flow FlowLimits
	span deliveryTrace
}

// failedTask is a task run that ended in a failure, whose descendants are
// to learn of it.
type failedTask struct {
	id     uuid.UUID
	taskID string
	from   childOrigin
}

// advance is the DAG's progress to write: children of tasks that finished
// without failure (succeeded, skipped; listed once per such parent), tasks
// that ended in a failure, and where each child comes from.
type advance struct {
	done   []uuid.UUID
	failed []failedTask
	origin map[uuid.UUID]childOrigin
}

// finished adds the children of a task that finished without failure.
func (a *advance) finished(children []uuid.UUID, from childOrigin) {
	for _, c := range children {
		a.done = append(a.done, c)
		a.origin[c] = from
	}
}

// advance moves the DAG on from the tasks that finished, in tx: each
// failure makes the all_succeeded tasks downstream of it upstream_failed
// (FailDescendants) and counts as a failed parent in the failure handlers
// it reaches; each finished parent is counted in its children
// (ReleaseChildrenMany), which, once all their parents have finished,
// become pending (enqueued here) or skipped by their run_if. A skipped child
// finishes in turn, so the loop goes on until nothing changes; it usually
// runs once.
func (r *recorder) advance(ctx context.Context, tx pgx.Tx, a *advance) error {
	q := store.New(tx)
	var deliveries []river.InsertManyParams
	for len(a.done) > 0 || len(a.failed) > 0 {
		var failedEdges []uuid.UUID
		for _, f := range a.failed {
			reached, err := q.FailDescendants(ctx, store.FailDescendantsParams{ID: f.id, TaskID: f.taskID})
			if err != nil {
				return fmt.Errorf("fail downstream tasks: %w", err)
			}
			for _, c := range reached {
				a.origin[c] = f.from
			}
			failedEdges = append(failedEdges, reached...)
		}
		children := append(a.done, failedEdges...)
		a.done, a.failed = nil, nil
		if len(children) == 0 {
			break
		}
		changed, err := q.ReleaseChildrenMany(ctx, store.ReleaseChildrenManyParams{ChildIds: children, FailedIds: failedEdges})
		if err != nil {
			return fmt.Errorf("release children: %w", err)
		}
		for _, c := range changed {
			from := a.origin[c.ID]
			switch c.State {
			case state.TaskPending:
				var child jobspec.Task
				if err := json.Unmarshal(c.Spec, &child); err != nil {
					return fmt.Errorf("decode task %s: %w", c.ID, err)
				}
				if child.IsFleet() {
					if err := startFleet(ctx, tx, r.client, c.RunID, from.job, c.ID, &child, from.span); err != nil {
						return err
					}
					continue
				}
				target := flowTarget{jobID: from.job, flow: from.flow, trace: from.span.metadata()}
				deliveries = append(deliveries, deliveryParams(c.ID, &child, target, 0, int(c.Round)))
			case state.TaskSkipped:
				a.finished(c.ChildIds, from)
			case state.TaskUpstreamFailed:
				a.failed = append(a.failed, failedTask{id: c.ID, taskID: c.TaskID, from: from})
			}
		}
	}
	return enqueueDeliveries(ctx, tx, r.client, deliveries)
}

// startQueued starts, for each run that ended, the oldest run of its job
// queued behind it (overlap=queue). Jobs with overlap=queue are locked first
// (afterRunEnded), as the ticker holds them when it queues a run; the others
// can only hold a run queued under an earlier definition: for the first
// known runs ended, queued lists the jobs that do; the others' are looked up.
func (r *recorder) startQueued(ctx context.Context, tx pgx.Tx, ended []store.Run, items []*finishItem, known int, queued []uuid.UUID) error {
	if len(ended) == 0 {
		return nil
	}
	overlap := make(map[uuid.UUID]string, len(items))
	for _, it := range items {
		overlap[it.tr.JobID] = it.tr.Overlap
	}
	lockFirst := queued
	var others []uuid.UUID
	for i, run := range ended {
		switch {
		case overlap[run.JobID] == jobspec.OverlapQueue:
			lockFirst = append(lockFirst, run.JobID)
		case i >= known:
			others = append(others, run.JobID)
		}
	}
	if len(others) > 0 {
		queued, err := store.New(tx).JobsWithQueuedRuns(ctx, others)
		if err != nil {
			return fmt.Errorf("find queued runs: %w", err)
		}
		lockFirst = append(lockFirst, queued...)
	}
	slices.SortFunc(lockFirst, compareUUID)
	for _, jobID := range slices.Compact(lockFirst) {
		if err := afterRunEnded(ctx, tx, r.client, jobID); err != nil {
			return err
		}
	}
	return nil
}

func compareUUID(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// soloRunState is the state a single-task run ends in when its task ends
// in t: succeeded (succeeded, or skipped by its condition), or failed
// (failed, expired).
func soloRunState(t state.Task) state.Run {
	if t.Failure() {
		return state.RunFailed
	}
	return state.RunSucceeded
}
