package dispatch

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps the delay a receiver can ask for with Retry-After, so
// that one header cannot park a task for days.
const maxRetryAfter = time.Hour

// parseRetryAfter returns the delay a Retry-After header value asks for,
// either delta-seconds or an HTTP-date (relative to now), capped at
// maxRetryAfter. It returns 0 for an empty or invalid value and for a date
// that is not in the future.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return maxRetryAfter
		case err != nil:
			return 0
		case secs >= uint64(maxRetryAfter/time.Second):
			return maxRetryAfter
		default:
			return time.Duration(secs) * time.Second
		}
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), maxRetryAfter)
}
