package schedule

import "sync"

// maxCached bounds a Cache; past it the cache starts over.
const maxCached = 10_000

// Cache keeps parsed cron schedules by expression and zone, so that code
// that reads many jobs, or fires many ticks, does not parse each expression
// and load its time zone from disk every time. Parsed schedules are
// immutable and safe to share. The zero Cache is ready to use and safe for
// concurrent use; a nil *Cache parses every time.
type Cache struct {
	mu sync.Mutex
	m  map[[2]string]Schedule
}

// ParseCron is ParseCron, remembered.
func (c *Cache) ParseCron(expr, tz string) (Schedule, error) {
	if c == nil {
		return ParseCron(expr, tz)
	}
	key := [2]string{expr, tz}
	c.mu.Lock()
	s, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := ParseCron(expr, tz)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[[2]string]Schedule)
	}
	c.m[key] = s
	c.mu.Unlock()
	return s, nil
}
