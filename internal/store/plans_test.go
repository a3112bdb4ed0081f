package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// planRows is how many rows the tables hold in
// TestBatchedStatementsScanTheirInputOnce, and planBatch how many a batched
// statement names: enough for the planner to prefer an index to a sequential
// scan, and for a quadratic plan to show.
const (
	planRows    = 20_000
	planBatch   = 200
	planBacklog = 5_000
)

// The batched statements of the delivery path (and of the ticker, the
// heartbeats, the reclaimer) join a table to their input, arrays unnested,
// on its key. The input must drive the join, each of its rows an index scan:
// a plan that scans the table first and the input again for each row found
// is quadratic in the batch. A condition id = ANY(@ids) beside the join made
// PostgreSQL choose that plan (for 1,000 rows, 250 ms against 14 ms). Nor
// may the table be scanned whole: at PostgreSQL's default random_page_cost
// the custom plans of these statements did, for tables of up to about a
// hundred thousand rows (store.RandomPageCost). Checked on both plans of the
// prepared statement, under herald's session settings (dbtest's pool has
// them).
func TestBatchedStatementsScanTheirInputOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)

	_, err := pool.Exec(ctx, fmt.Sprintf(`
		INSERT INTO jobs (id, name, tasks, secret)
			SELECT gen_random_uuid(), 'job-' || i, '[]', 'whsec_x' FROM generate_series(1, %[1]d) i;
		INSERT INTO runs (id, job_id, trigger, state, scheduled_for)
			SELECT gen_random_uuid(), id, 'manual', 'succeeded', now() FROM jobs;
		INSERT INTO task_runs (id, run_id, task_id, spec, state, attempts)
			SELECT gen_random_uuid(), id, 'main', '{}', 'succeeded', 1 FROM runs;
		INSERT INTO devices (id, name, capacity, token_hash, token_prefix)
			SELECT gen_random_uuid(), 'device-' || i, 1, sha256(i::text::bytea), 'p' || i FROM generate_series(1, %[1]d) i;
		ANALYZE jobs, runs, task_runs, devices`, planRows))
	require.NoError(t, err)

	ids := func(table string) []uuid.UUID {
		rows, err := pool.Query(ctx, "SELECT id FROM "+table+" ORDER BY random() LIMIT $1", planBatch)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		require.NoError(t, err)
		return out
	}
	taskRuns, runs, jobs, devices := ids("task_runs"), ids("runs"), ids("jobs"), ids("devices")
	// As in production: most runs ended long ago, the batch's in flight.
	_, err = pool.Exec(ctx, `UPDATE task_runs SET state = 'running' WHERE id = ANY($1)`, taskRuns)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE runs SET state = 'running' WHERE id = ANY($1)`, runs)
	require.NoError(t, err)
	// And a backlog: runs in flight, not in the batch (staged ticks, a
	// queue behind a slow receiver). A statement must not visit them all,
	// as one did through runs_active_by_job (it holds every running run).
	_, err = pool.Exec(ctx, fmt.Sprintf(`
		WITH backlog AS (
			INSERT INTO runs (id, job_id, trigger, state, scheduled_for)
				SELECT gen_random_uuid(), id, 'manual', 'running', now() FROM jobs LIMIT %[1]d
				RETURNING id)
		INSERT INTO task_runs (id, run_id, task_id, spec, state, attempts)
			SELECT gen_random_uuid(), id, 'main', '{}', 'running', 1 FROM backlog`, planBacklog))
	require.NoError(t, err)
	now := time.Now()

	tests := []struct {
		name string
		run  func(q *store.Queries) error
	}{
		{"BeginAttempts", func(q *store.Queries) error {
			_, err := q.BeginAttempts(ctx, store.BeginAttemptsParams{Ids: taskRuns, Rounds: fill[int32](0), Attempts: fill[int32](2)})
			return err
		}},
		{"RecordAndSettle", func(q *store.Queries) error {
			_, err := q.RecordAndSettle(ctx, store.RecordAndSettleParams{
				TaskRunIds: taskRuns, Attempts: fill[int32](1), StartedAts: fill(now), DurationsMs: fill(1.0),
				StatusCodes: fill[int32](200), Outcomes: fill("succeeded"), Errors: fill(""), ResponseBodies: fill(""),
				ResponsesTruncated: fill(false), HasRetry: fill(false), NextRetryAts: fill(now),
				DeviceIds: fill(uuid.Nil), Placements: fill(""), Inline: fill(true),
				Ids: taskRuns, States: fill("succeeded"), LastErrors: fill(""), LatestAttempts: fill[int32](1),
				OkIndexes: positions(),
			})
			return err
		}},
		{"EndSoloRuns", func(q *store.Queries) error {
			_, err := q.EndSoloRuns(ctx, store.EndSoloRunsParams{Ids: runs, States: fill("succeeded")})
			return err
		}},
		{"EndCheckedSoloRuns", func(q *store.Queries) error {
			_, err := q.EndCheckedSoloRuns(ctx, store.EndCheckedSoloRunsParams{
				Ids: runs, States: fill("succeeded"), TaskRunIds: taskRuns, TaskStates: fill("running"), Attempts: fill[int32](1),
			})
			return err
		}},
		{"SettleRuns", func(q *store.Queries) error {
			_, err := q.SettleRuns(ctx, runs)
			return err
		}},
		{"ReleaseChildrenMany", func(q *store.Queries) error {
			_, err := q.ReleaseChildrenMany(ctx, store.ReleaseChildrenManyParams{ChildIds: taskRuns, FailedIds: []uuid.UUID{}})
			return err
		}},
		{"AdvanceJobs", func(q *store.Queries) error {
			return q.AdvanceJobs(ctx, store.AdvanceJobsParams{
				Ids: jobs, HasNext: fill(true), NextFireAts: fill(now), Missed: fill[int64](0), Skipped: fill[int64](0),
			})
		}},
		{"RecordHeartbeats", func(q *store.Queries) error {
			return q.RecordHeartbeats(ctx, store.RecordHeartbeatsParams{
				Ids: devices, Cpus: fill(0.5), Memories: fill(0.5), QueueDepths: fill[int32](1), Timezones: fill(""),
			})
		}},
		{"RecordHeartbeatsMoved", func(q *store.Queries) error {
			return q.RecordHeartbeatsMoved(ctx, store.RecordHeartbeatsMovedParams{
				Ids: devices, Cpus: fill(0.5), Memories: fill(0.5), QueueDepths: fill[int32](1), Timezones: fill("Europe/Berlin"),
			})
		}},
		{"LoseAttempts", func(q *store.Queries) error {
			_, err := q.LoseAttempts(ctx, store.LoseAttemptsParams{Ids: taskRuns, Attempts: fill[int32](1), StartedAts: fill(now), Error: "lost"})
			return err
		}},
	}
	// Under the statistics taken before the batch and the backlog were in
	// flight (autovacuum's ANALYZE comes when it comes), and after: plans
	// flipped with them.
	for _, tt := range tests {
		for _, generic := range []bool{true, false} {
			for _, analyzed := range []bool{false, true} {
				name := tt.name + map[bool]string{false: "/custom", true: "/generic"}[generic] +
					map[bool]string{false: "/stale", true: "/analyzed"}[analyzed]
				t.Run(name, func(t *testing.T) {
					tx, err := pool.Begin(ctx)
					require.NoError(t, err)
					defer func() { _ = tx.Rollback(ctx) }()
					if analyzed {
						_, err = tx.Exec(ctx, `ANALYZE runs, task_runs`) // undone by the rollback
						require.NoError(t, err)
					}
					e := &explainer{tx: tx, generic: generic}
					_ = tt.run(store.New(e)) // the statement's own result is not read
					require.NoError(t, e.err)
					require.NotNil(t, e.plan, "the statement was not run")
					var plans []struct{ Plan planNode }
					require.NoError(t, json.Unmarshal(e.plan, &plans))
					require.Len(t, plans, 1)
					plans[0].Plan.check(t, e.plan)
				})
			}
		}
	}
}

// statementName finds a statement's sqlc name.
var statementName = regexp.MustCompile(`-- name: (\w+)`)

// positions returns 1 to planBatch.
func positions() []int32 {
	out := make([]int32, planBatch)
	for i := range out {
		out[i] = int32(i + 1)
	}
	return out
}

// fill returns a batch of v.
func fill[T any](v T) []T {
	out := make([]T, planBatch)
	for i := range out {
		out[i] = v
	}
	return out
}

// explainer is a store.DBTX that runs each statement in tx under EXPLAIN
// (ANALYZE, FORMAT JSON), keeping its plan; the statement's caller gets no
// rows. EXPLAIN of the statement with its parameters plans it with their
// values (a custom plan, which PostgreSQL makes for a prepared statement's
// first five executions and after each invalidation); generic explains the
// generic plan instead (which it uses after that, when no costlier), by
// preparing the statement under plan_cache_mode force_generic_plan.
// explained numbers the statements explainer prepares.
var explained atomic.Int64

type explainer struct {
	tx      pgx.Tx
	generic bool
	plan    []byte
	err     error
}

func (e *explainer) explain(ctx context.Context, sql string, args []any) {
	if !e.generic {
		e.err = e.tx.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON)\n"+sql, args...).Scan(&e.plan)
		return
	}
	if _, e.err = e.tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); e.err != nil {
		return
	}
	// Named for the statement: a prepared statement outlives the
	// transaction, on a connection the pool hands out again.
	// Unique, too: a statement is explained more than once.
	name := fmt.Sprintf("explained_%s_%d", strings.ToLower(statementName.FindStringSubmatch(sql)[1]), explained.Add(1))
	if _, e.err = e.tx.Exec(ctx, "PREPARE "+name+" AS\n"+sql); e.err != nil {
		return
	}
	// EXECUTE takes no bound parameters: each is passed as a literal of
	// its type.
	var types []string
	if e.err = e.tx.QueryRow(ctx, "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = $1", name).Scan(&types); e.err != nil {
		return
	}
	literals := make([]string, len(args))
	for i, arg := range args {
		if e.err = e.tx.QueryRow(ctx, "SELECT quote_literal($1::"+types[i]+") || '::"+types[i]+"'", arg).Scan(&literals[i]); e.err != nil {
			return
		}
	}
	e.err = e.tx.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE "+name+"("+strings.Join(literals, ", ")+")").Scan(&e.plan)
}

func (e *explainer) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	e.explain(ctx, sql, args)
	return pgconn.CommandTag{}, e.err
}

func (e *explainer) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	e.explain(ctx, sql, args)
	return e.tx.Query(ctx, "SELECT WHERE false")
}

func (e *explainer) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	e.explain(ctx, sql, args)
	return e.tx.QueryRow(ctx, "SELECT WHERE false")
}

func (e *explainer) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, fmt.Errorf("explainer: COPY is not explained")
}

// planNode is a node of EXPLAIN (ANALYZE, FORMAT JSON).
type planNode struct {
	NodeType     string     `json:"Node Type"`
	Alias        string     `json:"Alias"`
	IndexName    string     `json:"Index Name"`
	ActualRows   float64    `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	JoinFiltered float64    `json:"Rows Removed by Join Filter"`
	Filtered     float64    `json:"Rows Removed by Filter"`
	Plans        []planNode `json:"Plans"`
}

// check fails t when a table is scanned whole, when a node unnesting the
// input runs more than once, when a join discards as many rows as a batch
// holds (a nested loop comparing every row with every input row), or when
// an index scan visits the rows of the backlog (runs in flight outside the
// batch).
func (n planNode) check(t *testing.T, raw []byte) {
	t.Helper()
	switch n.NodeType {
	case "Seq Scan":
		require.Fail(t, "a table is scanned whole", "Seq Scan on %s, which holds %d rows\n%s", n.Alias, planRows, raw)
	case "ProjectSet", "Function Scan":
		require.LessOrEqual(t, n.ActualLoops, 1.0, "%s %s runs %v times: the input is scanned again for each row\n%s", n.NodeType, n.Alias, n.ActualLoops, raw)
	case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
		// Old versions of the batch's rows count too: the limit is the
		// backlog, which a scan of the batch alone does not come near.
		visited := (n.ActualRows + n.Filtered) * n.ActualLoops
		require.Less(t, visited, float64(planBacklog), "%s using %s visits %v rows for a batch of %d: the backlog of %d is read\n%s", n.NodeType, n.IndexName, visited, planBatch, planBacklog, raw)
	}
	require.Less(t, n.JoinFiltered, float64(planBatch), "a join compares rows with every input row\n%s", raw)
	for _, c := range n.Plans {
		c.check(t, raw)
	}
}

// The statements that find running runs by key name every other state
// (state NOT IN ...; EndSoloRuns says why): a state added to Go's list must
// be added to theirs.
func TestRunningRunsNameEveryOtherState(t *testing.T) {
	t.Parallel()
	var want []string
	for _, r := range state.Runs() {
		if r != state.RunRunning {
			want = append(want, "'"+string(r)+"'")
		}
	}
	slices.Sort(want)
	notIn := regexp.MustCompile(`state NOT IN \(('[^)]*)\)`)
	for _, name := range []string{"EndSoloRuns", "EndCheckedSoloRuns", "SettleRuns"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sql := queryText(t, name)
			m := notIn.FindStringSubmatch(sql)
			require.NotNil(t, m, "%s has no state NOT IN (...)", name)
			got := strings.Split(strings.ReplaceAll(m[1], " ", ""), ",")
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

// queryText returns the SQL of the named query from internal/store/queries.
func queryText(t *testing.T, name string) string {
	t.Helper()
	files, err := filepath.Glob("queries/*.sql")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, q := range strings.Split(string(b), "-- name: ")[1:] {
			if strings.HasPrefix(q, name+" ") {
				return q
			}
		}
	}
	t.Fatalf("no query %s", name)
	return ""
}
