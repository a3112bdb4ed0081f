// Package replica is a herald process's registration in PostgreSQL: it
// heartbeats, measures its clock against the database's,
// fences itself when it cannot show that it is alive, and, on processes that
// work, declares silent replicas dead so that their work is reclaimed.
//
// The rules, in one place:
//   - A replica heartbeats every HeartbeatInterval; one whose heartbeat is
//     older than its own Timeout (by the database's clock) is dead.
//   - A replica may send (Sendable) only while its last successful heartbeat
//     was sent less than Timeout - HeartbeatInterval ago: no survivor can
//     have declared it dead yet. Past that it holds every request until a
//     heartbeat succeeds, or until it learns it was declared dead; then it
//     abandons what it held (Work.Abandon: that work was reclaimed) and
//     registers again under the same id.
//   - A survivor declares another replica dead only after it has itself
//     heartbeated without a break for longer than that replica's timeout, so
//     that a database outage, which silences everyone, kills no one.
//   - Declaring a replica dead and reclaiming its work (Work.Reclaim) is one
//     transaction under the replica's row lock: exactly one survivor
//     reclaims each dead replica.
//   - A replica restarted on the same host and PID namespace declares its
//     predecessor dead at once when that process is gone (a SIGKILL and a
//     restart need not wait for the timeout).
package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
)

// Work is what a working process lends its registration: moving a dead
// replica's work, dropping its own when it finds itself declared dead, and
// its load for the heartbeat.
type Work interface {
	// Reclaim moves the work of the dead replica dead, in tx, and returns how
	// many deliveries it moved.
	Reclaim(ctx context.Context, tx pgx.Tx, dead string) (int, error)
	// Abandon stops everything this process is working on (it was declared
	// dead, and its work reclaimed) and returns once nothing of it will be
	// sent any more.
	Abandon(ctx context.Context)
	// Load is the number of deliveries being worked and, of them, those
	// with a request on the wire.
	Load() (working, inFlight int)
}

// Sweeper judges other things by their silence, with the rule replicas are
// judged by: it runs after each heartbeat of a working replica, told how
// long that replica has heartbeated without a break (zero right after a
// failure), and must judge nothing silent for longer than that (a database
// outage silences everyone). Devices are swept this way.
type Sweeper interface {
	Sweep(ctx context.Context, healthy time.Duration) error
}

// Replica is this process's registration.
type Replica struct {
	cfg   Config
	pool  *pgxpool.Pool
	host  string
	scope string
	pid   int

	mu           sync.Mutex
	work         Work
	sweepers     []Sweeper
	lastBeat     time.Time   // when the last successful heartbeat was sent (monotonic)
	healthySince time.Time   // first heartbeat of the current unbroken run; zero after a failure
	clock        clockSample // the best recent measurement of the database's clock against ours
	filter       offsetFilter
	changed      chan struct{} // closed and replaced when lastBeat moves
	failing      bool          // heartbeats fail: logged once per outage
	offsetWarned bool
	stop         context.CancelFunc
	done         chan struct{}
}

// New returns the registration; Start registers it and heartbeats.
func New(pool *pgxpool.Pool, cfg Config) (*Replica, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	host := cfg.Host
	if host == "" {
		host = hostname()
	}
	return &Replica{cfg: cfg, pool: pool, host: host, scope: processScope(), pid: os.Getpid(), changed: make(chan struct{})}, nil
}

// ID is the registration's id, also the process's River client id.
func (r *Replica) ID() string { return r.cfg.ID }

// Now is the database's clock as this process reckons it: its own clock
// plus the measured offset, less the measurement's uncertainty (half the
// round trip), so that what is sent at a time by this clock is never early
// by the database's. Staged deliveries are sent at their nominal time by
// this clock, so replicas with skewed clocks fire together.
func (r *Replica) Now() time.Time {
	r.mu.Lock()
	off := r.clock.floor()
	r.mu.Unlock()
	return r.cfg.Now().Add(off)
}

// Offset is PostgreSQL's clock minus this process's, as last estimated
// (the best recent measurement).
func (r *Replica) Offset() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock.offset
}

// sendWindow is how long after a successful heartbeat this process may
// still send: a survivor cannot declare it dead before Timeout has passed.
func (r *Replica) sendWindow() time.Duration { return r.cfg.Timeout - r.cfg.HeartbeatInterval }

// Sendable reports whether this process may send now.
func (r *Replica) Sendable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sendableLocked()
}

func (r *Replica) sendableLocked() bool {
	return !r.lastBeat.IsZero() && time.Since(r.lastBeat) < r.sendWindow()
}

// WaitSendable returns nil at once while this process may send; otherwise
// it waits until a heartbeat succeeds, or returns ctx's error (Abandon ends
// the contexts of the work it drops).
func (r *Replica) WaitSendable(ctx context.Context) error {
	for {
		r.mu.Lock()
		ok, changed := r.sendableLocked(), r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Start registers the replica (declaring its dead predecessors on this host
// dead at once) and heartbeats until Stop. work is nil for a process that
// does not work (the API role): it neither reclaims nor is fenced, nor
// sweeps; sweepers run after each heartbeat of a working process.
func (r *Replica) Start(ctx context.Context, work Work, sweepers ...Sweeper) error {
	r.mu.Lock()
	r.work = work
	if work != nil {
		r.sweepers = sweepers
	}
	r.mu.Unlock()
	if err := r.register(ctx); err != nil {
		return fmt.Errorf("register replica: %w", err)
	}
	r.expirePredecessors(ctx)
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stop, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		var wg sync.WaitGroup
		wg.Go(func() { r.probeClock(loopCtx) })
		r.loop(loopCtx)
		wg.Wait()
	}()
	return nil
}

// Stop ends the heartbeats and records a clean exit; what the process
// still held (deliveries River could not release) is reclaimed by the
// process itself, in the same transaction.
func (r *Replica) Stop(ctx context.Context) error {
	if r.stop != nil {
		r.stop()
		<-r.done
	}
	return store.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if r.work != nil {
			n, err := r.work.Reclaim(ctx, tx, r.cfg.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				r.cfg.Logger.WarnContext(ctx, "deliveries still held at exit put back in the queue", slog.Int("deliveries", n))
			}
		}
		return store.New(tx).StopReplica(ctx, r.cfg.ID)
	})
}

func (r *Replica) register(ctx context.Context) error {
	sent := time.Now()
	local := r.cfg.Now()
	db, err := store.New(r.pool).RegisterReplica(ctx, store.RegisterReplicaParams{
		ID: r.cfg.ID, Role: r.cfg.Role, Host: r.host, Pid: int32(r.pid), PidNamespace: r.scope,
		Version: r.cfg.Version, TimeoutMs: int32(r.cfg.Timeout.Milliseconds()),
	})
	if err != nil {
		return err
	}
	r.beaten(sent, local, time.Since(sent), db)
	r.cfg.Logger.InfoContext(ctx, "replica registered", slog.String("replica", r.cfg.ID),
		slog.String("heartbeat_interval", r.cfg.HeartbeatInterval.String()), slog.String("timeout", r.cfg.Timeout.String()))
	return nil
}

// expirePredecessors declares dead, at once, the live registrations of
// processes of this host and PID namespace that are gone: this process
// restarted after a crash, and its predecessor's work need not wait for the
// timeout. Any failure leaves them to the timeout.
func (r *Replica) expirePredecessors(ctx context.Context) {
	if r.scope == "" {
		return
	}
	q := store.New(r.pool)
	others, err := q.SameHostReplicas(ctx, store.SameHostReplicasParams{Host: r.host, PidNamespace: r.scope, ID: r.cfg.ID})
	if err != nil {
		r.cfg.Logger.WarnContext(ctx, "could not look for predecessors", slog.Any("error", err))
		return
	}
	var gone []int32
	for _, o := range others {
		if processGone(int(o.Pid)) {
			gone = append(gone, o.Pid)
		}
	}
	if len(gone) == 0 {
		return
	}
	ids, err := q.ExpirePredecessors(ctx, store.ExpirePredecessorsParams{Host: r.host, PidNamespace: r.scope, Gone: gone, ID: r.cfg.ID})
	if err != nil {
		r.cfg.Logger.WarnContext(ctx, "could not expire predecessors", slog.Any("error", err))
		return
	}
	for _, id := range ids {
		r.cfg.Logger.InfoContext(ctx, "a replica of this host is gone: its work is reclaimed now", slog.String("replica", id))
	}
}

func (r *Replica) loop(ctx context.Context) {
	t := time.NewTicker(r.cfg.HeartbeatInterval)
	defer t.Stop()
	var beats int
	for {
		if r.work != nil {
			r.reclaimDead(ctx)
			r.sweep(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.heartbeat(ctx)
		if beats++; beats%forgetEvery == 0 {
			if err := store.New(r.pool).ForgetReplicas(ctx, keepEnded.Seconds()); err != nil && ctx.Err() == nil {
				r.cfg.Logger.DebugContext(ctx, "forget old replicas", slog.Any("error", err))
			}
		}
	}
}

// forgetEvery is how many heartbeats pass between deletions of old
// registrations.
const forgetEvery = 100

// heartbeat records that the replica lives, with its load and clock offset.
func (r *Replica) heartbeat(ctx context.Context) {
	var working, inFlight int
	if r.work != nil {
		working, inFlight = r.work.Load()
	}
	offsetMs := float64(r.Offset().Microseconds()) / 1000
	// A slow heartbeat that succeeds still counts, from when it was sent;
	// one slower than the send window is a failed one.
	hctx, cancel := context.WithTimeout(ctx, r.sendWindow())
	defer cancel()
	sent := time.Now()
	local := r.cfg.Now()
	db, err := store.New(r.pool).Heartbeat(hctx, store.HeartbeatParams{
		ID: r.cfg.ID, Working: int32(working), InFlight: int32(inFlight), ClockOffsetMs: &offsetMs,
	})
	rtt := time.Since(sent)
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, pgx.ErrNoRows):
		r.declaredDead(ctx)
	case err != nil:
		r.failed(ctx, err)
	default:
		r.beaten(sent, local, rtt, db)
	}
}

// beaten records a successful heartbeat sent at sent (local clock local),
// answered after rtt with the database's clock db.
func (r *Replica) beaten(sent, local time.Time, rtt time.Duration, db time.Time) {
	r.mu.Lock()
	recovered := r.failing
	r.failing = false
	r.lastBeat = sent
	if r.healthySince.IsZero() {
		r.healthySince = sent
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	if recovered {
		r.cfg.Logger.Info("heartbeats succeed again", slog.String("replica", r.cfg.ID))
	}
	r.observeClock(local, rtt, db)
}

// observeClock adds a reading of the database's clock db, taken over a
// round trip rtt sent at local time local, to the offset estimate.
func (r *Replica) observeClock(local time.Time, rtt time.Duration, db time.Time) {
	r.mu.Lock()
	r.clock = r.filter.add(measure(local, rtt, db))
	off := r.clock.offset
	warn := (off > r.cfg.MaxClockOffset || off < -r.cfg.MaxClockOffset) && !r.offsetWarned
	if warn {
		r.offsetWarned = true
	} else if off <= r.cfg.MaxClockOffset && off >= -r.cfg.MaxClockOffset {
		r.offsetWarned = false
	}
	r.mu.Unlock()
	r.cfg.Metrics.ClockOffset(off)
	if warn {
		r.cfg.Logger.Warn("this replica's clock is off from PostgreSQL's; staged deliveries are sent by PostgreSQL's clock, but check NTP",
			slog.String("offset", off.String()), slog.String("max_clock_offset", r.cfg.MaxClockOffset.String()))
	}
}

// probeClock reads the database's clock every ClockProbeInterval until ctx
// ends (DatabaseClock). A heartbeat's reading is followed by its commit (a
// WAL flush where synchronous_commit is on) before the answer arrives, and
// Now is behind by up to the round trip of the best reading: on the
// heartbeats alone, every staged delivery would be late by about a commit,
// and by a busy moment's queueing when every heartbeat of the filter's
// window met one (they come at a fixed phase of the second). The probes
// write nothing and come four times a second, so the window holds a quiet
// one. A failed probe is skipped: the estimate stands (the heartbeats say
// whether the database is away).
func (r *Replica) probeClock(ctx context.Context) {
	t := time.NewTicker(r.cfg.ClockProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, r.cfg.ClockProbeInterval)
		sent := time.Now()
		local := r.cfg.Now()
		db, err := store.New(r.pool).DatabaseClock(pctx)
		rtt := time.Since(sent)
		cancel()
		if err == nil {
			r.observeClock(local, rtt, db)
		}
	}
}

// failed records a failed heartbeat: the run of healthy heartbeats is
// broken, so this replica judges no other until it has heartbeated for a
// whole timeout again.
func (r *Replica) failed(ctx context.Context, err error) {
	r.mu.Lock()
	first := !r.failing
	r.failing = true
	r.healthySince = time.Time{}
	left := r.sendWindow() - time.Since(r.lastBeat)
	r.mu.Unlock()
	if first {
		r.cfg.Logger.WarnContext(ctx, "heartbeat failed; if PostgreSQL stays unreachable, this replica holds its deliveries",
			slog.String("replica", r.cfg.ID), slog.String("holds_in", max(0, left).Round(time.Millisecond).String()), slog.Any("error", err))
	}
}

// declaredDead handles the discovery that a survivor declared this replica
// dead (it was silent too long: paused, cut off) and reclaimed its work:
// drop that work before anything more is sent, then register again.
func (r *Replica) declaredDead(ctx context.Context) {
	r.cfg.Logger.WarnContext(ctx, "this replica was declared dead (silent past its timeout) and its work reclaimed by another; dropping what it held and registering again",
		slog.String("replica", r.cfg.ID))
	r.mu.Lock()
	r.lastBeat = time.Time{} // nothing is sent until registered again
	r.healthySince = time.Time{}
	r.mu.Unlock()
	if r.work != nil {
		r.work.Abandon(ctx)
	}
	if err := r.register(ctx); err != nil && ctx.Err() == nil {
		r.failed(ctx, err)
		return
	}
	r.mu.Lock()
	r.healthySince = time.Now() // judge others only after a whole timeout of heartbeats
	r.mu.Unlock()
}

// healthyFor is how long this replica has heartbeated without a break and
// may still send: zero when it may not judge anything.
func (r *Replica) healthyFor() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.healthySince.IsZero() || !r.sendableLocked() {
		return 0
	}
	return time.Since(r.healthySince)
}

// sweep runs the sweepers.
func (r *Replica) sweep(ctx context.Context) {
	healthy := r.healthyFor()
	for _, s := range r.sweepers {
		if err := s.Sweep(ctx, healthy); err != nil && ctx.Err() == nil {
			r.cfg.Logger.WarnContext(ctx, "sweep failed; retried at the next heartbeat", slog.Any("error", err))
		}
	}
}

// maxReclaimsPerBeat bounds how many dead replicas one heartbeat reclaims.
const maxReclaimsPerBeat = 10

// reclaimTimeout bounds one reclaim's transaction.
const reclaimTimeout = 30 * time.Second

// reclaimDead declares dead, one at a time, the replicas that have been
// silent past their timeout, and reclaims their work.
func (r *Replica) reclaimDead(ctx context.Context) {
	healthy := r.healthyFor()
	for range maxReclaimsPerBeat {
		found, err := r.reclaimOne(ctx, healthy)
		if err != nil {
			if ctx.Err() == nil {
				r.cfg.Logger.WarnContext(ctx, "reclaiming a dead replica failed; retried at the next heartbeat", slog.Any("error", err))
			}
			return
		}
		if !found {
			return
		}
	}
}

// reclaimOne declares one dead replica and reclaims its work, if there is
// one. healthy is how long this replica has heartbeated without a break:
// it judges only replicas whose timeout is shorter.
func (r *Replica) reclaimOne(ctx context.Context, healthy time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, reclaimTimeout)
	defer cancel()
	var (
		dead  store.ClaimDeadReplicaRow
		moved int
		found bool
	)
	err := store.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		var err error
		dead, err = q.ClaimDeadReplica(ctx, store.ClaimDeadReplicaParams{
			Reclaimer: r.cfg.ID, HealthyMs: int32(min(healthy.Milliseconds(), 1<<30)),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find dead replicas: %w", err)
		}
		found = true
		if moved, err = r.work.Reclaim(ctx, tx, dead.ID); err != nil {
			return fmt.Errorf("reclaim %s: %w", dead.ID, err)
		}
		return q.SetReclaimed(ctx, store.SetReclaimedParams{ID: dead.ID, Reclaimed: int32(moved)})
	})
	if err != nil || !found {
		return false, err
	}
	r.cfg.Metrics.Reclaimed(moved)
	how := "silent past its timeout"
	if dead.KnownDead {
		how = "its process on this host is gone"
	}
	r.cfg.Logger.WarnContext(ctx, "replica declared dead; its deliveries are back in the queue",
		slog.String("dead", dead.ID), slog.String("role", dead.Role), slog.String("host", dead.Host),
		slog.String("why", how), slog.Int("deliveries", moved))
	return true, nil
}
