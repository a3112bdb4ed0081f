package handlers

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/views"
)

// liveSnapshot is a run as one poll read it, for its live views.
type liveSnapshot struct {
	body *views.RunBody
	job  *store.Job
	err  error
}

// liveRuns shares the reads of live run views: one poll of a run every
// livePoll on this replica however many views follow it (a hundred
// viewers of one run cost one read, not a hundred), sent to each view only
// when what it shows changed. A view renders the snapshot itself, in its
// viewer's time zone. The poll stops when the last view of the run leaves,
// or when the run has ended.
type liveRuns struct {
	read func(ctx context.Context, id uuid.UUID) (*views.RunBody, *store.Job, error)
	poll time.Duration

	mu   sync.Mutex
	runs map[uuid.UUID]*liveRun
}

// liveRun is one run's poll and its views. Each view's channel holds the
// latest snapshot only: a slow view skips what it could not show in time.
type liveRun struct {
	views map[chan liveSnapshot]struct{}
	last  *liveSnapshot
}

func newLiveRuns(read func(context.Context, uuid.UUID) (*views.RunBody, *store.Job, error), poll time.Duration) *liveRuns {
	return &liveRuns{read: read, poll: poll, runs: map[uuid.UUID]*liveRun{}}
}

// follow returns a channel of the run's snapshots, starting with the
// latest one read if any, and the function that stops following.
func (l *liveRuns) follow(id uuid.UUID) (<-chan liveSnapshot, func()) {
	ch := make(chan liveSnapshot, 1)
	l.mu.Lock()
	lr := l.runs[id]
	if lr == nil {
		lr = &liveRun{views: map[chan liveSnapshot]struct{}{}}
		l.runs[id] = lr
		go l.pollRun(id, lr)
	}
	lr.views[ch] = struct{}{}
	if lr.last != nil {
		ch <- *lr.last
	}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(lr.views, ch)
		l.mu.Unlock()
	}
}

// pollRun reads the run every poll while it has views, and sends each read
// that changed what a view shows (or ends the run) to every view.
func (l *liveRuns) pollRun(id uuid.UUID, lr *liveRun) {
	ticker := time.NewTicker(l.poll)
	defer ticker.Stop()
	var last []byte
	for {
		body, job, err := l.read(context.Background(), id)
		snap := liveSnapshot{body: body, job: job, err: err}
		changed := true
		if err == nil {
			var buf bytes.Buffer
			if views.RunBodyView(*body).Render(context.Background(), &buf) == nil {
				changed = !bytes.Equal(buf.Bytes(), last)
				last = buf.Bytes()
			}
		}
		ended := err != nil || body.Ended()
		l.mu.Lock()
		if len(lr.views) == 0 || ended {
			delete(l.runs, id) // later views start a poll of their own
		}
		if changed || ended {
			lr.last = &snap
			for ch := range lr.views {
				select {
				case <-ch: // drop what the view has not taken
				default:
				}
				ch <- snap
			}
		}
		done := len(lr.views) == 0 || ended
		l.mu.Unlock()
		if done {
			return
		}
		<-ticker.C
	}
}
