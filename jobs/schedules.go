package jobs

import (
	"sync"
	"time"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
)

// scheduleCache keeps compiled cron schedules, keyed by expression and zone,
// so that a tick does not parse its expression and load its time zone from
// disk each time. Compiled schedules are immutable and safe to share.
type scheduleCache struct {
	mu   sync.Mutex
	cron map[[2]string]schedule.Schedule
}

// maxCachedSchedules bounds the cache; past it the cache starts over.
const maxCachedSchedules = 10_000

// compile returns s's recurring schedule, "every" intervals counting from
// anchor; nil for a one-off schedule or none.
func (c *scheduleCache) compile(s *jobspec.Schedule, anchor time.Time) (schedule.Schedule, error) {
	if s == nil || s.Cron == "" {
		return s.Compile(anchor)
	}
	key := [2]string{s.Cron, s.Timezone}
	c.mu.Lock()
	sched, ok := c.cron[key]
	c.mu.Unlock()
	if ok {
		return sched, nil
	}
	sched, err := s.Compile(anchor)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cron == nil || len(c.cron) >= maxCachedSchedules {
		c.cron = make(map[[2]string]schedule.Schedule)
	}
	c.cron[key] = sched
	c.mu.Unlock()
	return sched, nil
}
