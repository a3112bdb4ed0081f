package replica

import (
	"context"
	"net"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fast is a liveness configuration for tests: a heartbeat every 100ms, dead
// after 400ms of silence.
func fast(id string) Config {
	return Config{ID: id, Role: "worker", Version: "test", HeartbeatInterval: 100 * time.Millisecond, Timeout: 400 * time.Millisecond}
}

// workLog is a Work that records what its replica asks of it.
type workLog struct {
	mu        sync.Mutex
	reclaimed []string
	abandoned int
}

func (w *workLog) Reclaim(_ context.Context, _ pgx.Tx, dead string) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reclaimed = append(w.reclaimed, dead)
	return 3, nil
}

func (w *workLog) Abandon(context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.abandoned++
}

func (w *workLog) Load() (int, int) { return 2, 1 }

func (w *workLog) snapshot() ([]string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.reclaimed...), w.abandoned
}

type testBundle struct {
	pool *pgxpool.Pool
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{pool: dbtest.New(t)}
}

// start starts a replica with cfg and work, stopped at the end of the test.
func (b *testBundle) start(t *testing.T, cfg Config, work Work) *Replica {
	t.Helper()
	r, err := New(b.pool, cfg)
	require.NoError(t, err)
	require.NoError(t, r.Start(t.Context(), work))
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	return r
}

// ghost registers a replica that stopped heartbeating long ago.
func (b *testBundle) ghost(t *testing.T, id string) {
	t.Helper()
	_, err := b.pool.Exec(t.Context(), `
		INSERT INTO replicas (id, role, host, pid, version, timeout_ms, heartbeat_at, started_at)
		VALUES ($1, 'worker', 'elsewhere', 1, 'old', 400, now() - interval '1 hour', now() - interval '2 hours')`, id)
	require.NoError(t, err)
}

type replicaRow struct {
	State       string
	ReclaimedBy *string
	Reclaimed   int32
	EndedAt     *time.Time
	Working     int32
	InFlight    int32
}

func (b *testBundle) row(t *testing.T, id string) replicaRow {
	t.Helper()
	var r replicaRow
	require.NoError(t, b.pool.QueryRow(t.Context(),
		`SELECT state, reclaimed_by, reclaimed, ended_at, working, in_flight FROM replicas WHERE id = $1`, id).
		Scan(&r.State, &r.ReclaimedBy, &r.Reclaimed, &r.EndedAt, &r.Working, &r.InFlight))
	return r
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 10*time.Millisecond, msg)
}

func TestExactlyOneSurvivorReclaimsADeadReplica(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ghost(t, "ghost")
	logs := make([]*workLog, 3)
	for i := range logs {
		logs[i] = &workLog{}
		b.start(t, fast(NewID("survivor")), logs[i])
	}
	eventually(t, func() bool { return b.row(t, "ghost").State == "dead" }, "the silent replica was not declared dead")
	time.Sleep(500 * time.Millisecond) // more heartbeats: nobody reclaims it twice

	total := 0
	for _, l := range logs {
		reclaimed, _ := l.snapshot()
		total += len(reclaimed)
	}
	if total != 1 {
		t.Fatalf("reclaims of the dead replica: got %d, want 1", total)
	}
	row := b.row(t, "ghost")
	require.NotNil(t, row.ReclaimedBy)
	require.Equal(t, int32(3), row.Reclaimed, "the deliveries the reclaim moved")
}

// A database outage silences every replica at once: a survivor judges
// another only after heartbeating without a break for longer than that
// replica's timeout, so that the first to reconnect kills no one.
func TestASurvivorJudgesOnlyAfterItsOwnHealthOutlastsTheTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.pool.Exec(t.Context(), `
		INSERT INTO replicas (id, role, host, pid, version, timeout_ms, heartbeat_at)
		VALUES ('slow-to-judge', 'worker', 'elsewhere', 1, 'old', 1500, now() - interval '1 hour')`)
	require.NoError(t, err)
	b.start(t, fast("judge"), &workLog{})
	started := time.Now()
	eventually(t, func() bool { return b.row(t, "slow-to-judge").State == "dead" }, "never declared dead")
	// Not a timing assertion: a lower bound the rule guarantees.
	require.GreaterOrEqual(t, time.Since(started), 1500*time.Millisecond, "judged before its own health outlasted the timeout")
	require.Equal(t, "judge", *b.row(t, "slow-to-judge").ReclaimedBy)
}

func TestDeclaredDeadReplicaAbandonsItsWorkAndRegistersAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	work := &workLog{}
	r := b.start(t, fast("victim"), work)
	eventually(t, func() bool { return b.row(t, "victim").Working == 2 }, "the heartbeat did not report the load")
	require.Equal(t, int32(1), b.row(t, "victim").InFlight)

	// What a survivor does to a replica it found silent.
	_, err := b.pool.Exec(t.Context(), `UPDATE replicas SET state = 'dead', ended_at = now(), reclaimed_by = 'someone' WHERE id = 'victim'`)
	require.NoError(t, err)
	eventually(t, func() bool { _, n := work.snapshot(); return n == 1 }, "the replica did not abandon its work")
	eventually(t, func() bool { return b.row(t, "victim").State == "alive" }, "the replica did not register again")
	require.True(t, r.Sendable(), "registered again, it sends again")
}

func TestCleanStopReclaimsWhatWasLeftAndRecordsTheExit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	work := &workLog{}
	r, err := New(b.pool, fast("leaving"))
	require.NoError(t, err)
	require.NoError(t, r.Start(t.Context(), work))
	require.NoError(t, r.Stop(t.Context()))
	reclaimed, _ := work.snapshot()
	require.Equal(t, []string{"leaving"}, reclaimed, "its own leftovers are put back")
	require.Equal(t, "stopped", b.row(t, "leaving").State)
}

// A replica restarted on the same host finds its predecessor's process gone
// and has it reclaimed at once, without waiting for the timeout; a replica
// of the same host whose process lives is left alone.
func TestRestartedReplicaExpiresItsGonePredecessor(t *testing.T) {
	t.Parallel()
	scope := processScope()
	if scope == "" {
		t.Skip("no /proc: predecessors are judged by their timeout only")
	}
	b := setup(t)
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	host := hostname()
	for id, pid := range map[string]int{"predecessor": gone.Process.Pid, "neighbour": 1} {
		_, err := b.pool.Exec(t.Context(), `
			INSERT INTO replicas (id, role, host, pid, pid_namespace, version, timeout_ms, heartbeat_at)
			VALUES ($1, 'all', $2, $3, $4, 'old', 3600000, now())`, id, host, pid, scope)
		require.NoError(t, err)
	}
	work := &workLog{}
	b.start(t, fast("successor"), work)
	eventually(t, func() bool { return b.row(t, "predecessor").State == "dead" }, "the gone predecessor was not declared dead")
	reclaimed, _ := work.snapshot()
	require.Equal(t, []string{"predecessor"}, reclaimed)
	require.Equal(t, "alive", b.row(t, "neighbour").State, "a live process of the same host was declared dead")
}

// While its heartbeats fail (the database is away, or cut off), a replica
// stops sending once a survivor could declare it dead, and sends again as
// soon as a heartbeat succeeds.
func TestFenceHoldsSendsWhileHeartbeatsFail(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	net := &partition{}
	cfg.ConnConfig.DialFunc = net.dial
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	r, err := New(pool, fast("cut-off"))
	require.NoError(t, err)
	require.NoError(t, r.Start(t.Context(), &workLog{}))
	t.Cleanup(func() { net.heal(); _ = r.Stop(context.Background()) })
	require.True(t, r.Sendable())

	net.cut()
	eventually(t, func() bool { return !r.Sendable() }, "still sending without heartbeats")
	waited := make(chan error, 1)
	go func() { waited <- r.WaitSendable(t.Context()) }()
	select {
	case err := <-waited:
		t.Fatalf("WaitSendable returned %v while cut off", err)
	case <-time.After(300 * time.Millisecond):
	}
	net.heal()
	select {
	case err := <-waited:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("WaitSendable did not return once heartbeats succeeded again")
	}
	require.True(t, r.Sendable())
}

// partition is a network between a pool and PostgreSQL that a test can cut:
// open connections are closed and new ones refused until it heals.
type partition struct {
	mu     sync.Mutex
	broken bool
	conns  []net.Conn
}

func (p *partition) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errPartitioned}
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		p.conns = append(p.conns, c)
	}
	return c, err
}

func (p *partition) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.broken = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *partition) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.broken = false
}

var errPartitioned = &net.AddrError{Err: "partitioned by the test", Addr: "postgres"}

// The clock offset follows the probes, which write nothing, not only the
// heartbeats: with heartbeats ten minutes apart, a step of this process's
// clock is taken into Now long before the next heartbeat.
func TestClockProbesFollowAStepOfTheLocalClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var skew atomic.Int64 // this process's clock minus the real time
	cfg := Config{
		ID: "probed", Role: "worker", Version: "test",
		HeartbeatInterval: 10 * time.Minute, Timeout: 30 * time.Minute,
		ClockProbeInterval: 10 * time.Millisecond,
		Now:                func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
	}
	r := b.start(t, cfg, nil)
	// The database runs on this machine: its clock is the real time.
	near := func(want time.Duration) bool {
		off := r.Offset()
		return off > want-200*time.Millisecond && off < want+200*time.Millisecond
	}
	eventually(t, func() bool { return near(0) }, "the offset is not about zero")

	skew.Store(int64(3 * time.Second)) // the local clock jumps 3 s ahead
	eventually(t, func() bool { return near(-3 * time.Second) }, "the probes did not follow the step")
	got := r.Now().Sub(time.Now())
	require.True(t, got < 200*time.Millisecond && got > -200*time.Millisecond, "Now is %v off the database's clock", got)
	require.Equal(t, "alive", b.row(t, "probed").State)
}
