package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Fault steps, in the order `make chaos` runs them.
const (
	stepKill    = "kill"
	stepOutage  = "outage"
	stepRolling = "rolling"
	// phaseSteady names the answers counted outside any step.
	phaseSteady = "steady"
	// victim is the slot the kill step kills (numbered from 1).
	victim = 2
	// snapshotTimeout bounds the snapshot of what the killed replica held.
	snapshotTimeout = 10 * time.Second
)

// event is one thing the suite did, for the report's timeline.
type event struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// killRecord is one SIGKILL of a replica and what it held.
type killRecord struct {
	// Replica is the slot, PID the process killed, At the kill.
	Replica int
	PID     int
	At      time.Time
	// ClientIDs are the killed process's River client ids, from its log.
	ClientIDs []string
	// Held are the deliveries it held; HeldErr says why they are unknown.
	Held    []heldDelivery
	HeldErr string
}

// runFaults runs the steps with a pause before each, while the load runs.
func (s *suite) runFaults(ctx context.Context) error {
	for _, step := range s.opts.faults {
		if err := sleep(ctx, s.opts.pause); err != nil {
			return err
		}
		var err error
		switch step {
		case stepKill:
			err = s.killStep(ctx)
		case stepOutage:
			err = s.outageStep(ctx)
		case stepRolling:
			err = s.rollingStep(ctx)
		}
		s.answers.SetPhase(phaseSteady)
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	}
	return nil
}

// killStep SIGKILLs a replica, notes what it held, and after killDown
// starts a new process in its slot.
func (s *suite) killStep(ctx context.Context) error {
	r := s.replicas[victim-1]
	s.answers.SetPhase(stepKill)
	at := time.Now()
	p, err := r.Kill()
	if err != nil {
		return err
	}
	k := killRecord{Replica: r.n, PID: p.PID(), At: at, ClientIDs: p.ClientIDs()}
	s.record(fmt.Sprintf("SIGKILL replica %d (pid %d)", r.n, k.PID))
	if len(k.ClientIDs) == 0 {
		k.HeldErr = "its log names no River client id (\"" + riverStarted + "\")"
	} else {
		snapCtx, cancel := context.WithTimeout(ctx, snapshotTimeout)
		k.Held, err = snapshotHeld(snapCtx, s.db.pool, k.ClientIDs)
		cancel()
		if err != nil {
			k.HeldErr = err.Error()
		}
	}
	s.record(fmt.Sprintf("replica %d held %d deliveries at its death", r.n, len(k.Held)))
	s.addKill(k)
	if err := sleep(ctx, s.opts.killDown); err != nil {
		return err
	}
	return s.restart(ctx, r, "restarted")
}

// outageStep stops PostgreSQL with a fast shutdown for the outage, then
// starts it again; skipped on DATABASE_URL's server.
func (s *suite) outageStep(ctx context.Context) error {
	if !s.db.CanStop() {
		s.record("database outage skipped: DATABASE_URL names a server the suite does not stop")
		return nil
	}
	s.answers.SetPhase(stepOutage)
	if err := s.db.Stop(ctx); err != nil {
		return err
	}
	s.record("PostgreSQL stopped (fast shutdown)")
	if err := sleep(ctx, s.opts.outage); err != nil {
		return err
	}
	if err := s.db.Start(ctx); err != nil {
		return err
	}
	s.record("PostgreSQL started again")
	return nil
}

// rollingStep restarts every replica in turn: SIGTERM, wait for the exit,
// start, wait until /readyz answers 200, then the next.
func (s *suite) rollingStep(ctx context.Context) error {
	s.answers.SetPhase(stepRolling)
	for _, r := range s.replicas {
		begin := time.Now()
		p, err := r.Stop()
		if err != nil {
			return err
		}
		pid := 0
		if p != nil {
			pid = p.PID()
		}
		s.record(fmt.Sprintf("SIGTERM replica %d (pid %d): exited after %s", r.n, pid, time.Since(begin).Round(time.Millisecond)))
		if err := s.restart(ctx, r, "restarted"); err != nil {
			return err
		}
	}
	return nil
}

// restart starts a new process in r's slot and records when it is ready.
func (s *suite) restart(ctx context.Context, r *replica, what string) error {
	p, err := r.Start(ctx)
	if err != nil {
		return err
	}
	s.record(fmt.Sprintf("replica %d %s (pid %d), ready after %s", r.n, what, p.PID(), p.readyAt.Sub(p.startedAt).Round(time.Millisecond)))
	return nil
}

// record adds an event to the timeline and logs it.
func (s *suite) record(what string) {
	s.mu.Lock()
	s.events = append(s.events, event{At: time.Now(), What: what})
	s.mu.Unlock()
	s.logger.Info(what)
}

// addKill keeps a kill for the audit.
func (s *suite) addKill(k killRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kills = append(s.kills, k)
}

// crashed notes a replica that exited without being asked to.
func (s *suite) crashed(n int, p *replicaProcess) {
	s.mu.Lock()
	s.crashes = append(s.crashes, fmt.Sprintf("replica %d (pid %d): %v", n, p.PID(), p.waitErr))
	s.mu.Unlock()
	s.record(fmt.Sprintf("replica %d (pid %d) exited by itself: %v", n, p.PID(), p.waitErr))
	s.logger.Error("a replica exited by itself", slog.Int("replica", n), slog.String("log", replicaLogPath(s.dir, n)))
}

// sleep waits for d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
