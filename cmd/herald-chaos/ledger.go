package main

import (
	"sync"
	"time"
)

// registration is a job registration the client made, however it ended.
type registration struct {
	outcome
	// Kind is kindOneOff, kindCron, kindDAG or kindManual.
	Kind string
	// Due is when a one-off job should fire (at the latest), zero for
	// the others.
	Due time.Time
}

// trigger is a manual trigger (POST /v1/jobs/{id}/runs) the client made.
type trigger struct {
	outcome
	// JobID is the job triggered.
	JobID string
}

// ledger remembers every operation of the load and how it ended.
type ledger struct {
	mu            sync.Mutex
	registrations []registration
	triggers      []trigger
	// pauses are the pauses of cron jobs at the end of the load, by job.
	pauses map[string]outcome
}

func newLedger() *ledger { return &ledger{pauses: map[string]outcome{}} }

func (l *ledger) AddRegistration(r registration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.registrations = append(l.registrations, r)
}

func (l *ledger) AddTrigger(t trigger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.triggers = append(l.triggers, t)
}

func (l *ledger) AddPause(jobID string, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pauses[jobID] = o
}

// Registrations returns a copy of the registrations.
func (l *ledger) Registrations() []registration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]registration(nil), l.registrations...)
}

// Triggers returns a copy of the triggers.
func (l *ledger) Triggers() []trigger {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]trigger(nil), l.triggers...)
}

// Pause returns the pause of cron job id.
func (l *ledger) Pause(id string) (outcome, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.pauses[id]
	return o, ok
}

// LastDue is the latest Due of the acknowledged one-off registrations.
func (l *ledger) LastDue() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last time.Time
	for _, r := range l.registrations {
		if r.Acked && r.Due.After(last) {
			last = r.Due
		}
	}
	return last
}
