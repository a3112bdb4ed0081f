package jobs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// errAbandoned ends the deliveries of a process that found itself declared
// dead: another replica reclaimed them.
var errAbandoned = errors.New("this replica was declared dead and its deliveries reclaimed by another")

// workingSet is the deliveries this process is working: counted for its
// heartbeat, and cancellable all at once when it finds itself declared dead.
type workingSet struct {
	mu      sync.Mutex
	cancels map[int64]context.CancelCauseFunc
	sends   atomic.Int64 // of them, those with a request on the wire
}

// add registers the delivery of River job id; the returned context ends
// when the process abandons its work, and done unregisters it.
func (s *workingSet) add(ctx context.Context, id int64) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	s.mu.Lock()
	if s.cancels == nil {
		s.cancels = make(map[int64]context.CancelCauseFunc)
	}
	s.cancels[id] = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		delete(s.cancels, id)
		s.mu.Unlock()
		cancel(nil)
	}
}

// sending moves the count of requests on the wire.
func (s *workingSet) sending(delta int64) { s.sends.Add(delta) }

// load is the number of deliveries being worked and of requests on the wire.
func (s *workingSet) load() (working, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cancels), int(s.sends.Load())
}

// abandon ends every delivery being worked and returns their River job ids.
func (s *workingSet) abandon() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.cancels))
	for id, cancel := range s.cancels {
		cancel(errAbandoned)
		ids = append(ids, id)
	}
	return ids
}

// holds reports whether any of the deliveries ids is still being worked.
func (s *workingSet) holds(ids []int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.cancels[id]; ok {
			return true
		}
	}
	return false
}
