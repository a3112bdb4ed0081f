package dispatch

import "time"

// Result is what happened to one delivery attempt.
type Result struct {
	// Outcome says whether the task is done, should be retried, or failed
	// for good.
	Outcome Outcome
	// StatusCode is the response status; 0 when no response arrived.
	StatusCode int
	// Body is the first Config.MaxResponseBytes of the response body.
	Body []byte
	// Truncated reports that the response body was longer than Body.
	Truncated bool
	// RetryAfter is the delay the receiver asked for with a Retry-After
	// header (delta-seconds or HTTP-date), capped at one hour; 0 when absent
	// or invalid. Callers should wait at least this long before a retry.
	RetryAfter time.Duration
	// Duration is the time from sending the request to having read the
	// captured part of the response body.
	Duration time.Duration
	// Err is why no response arrived (invalid request, refused target
	// address, dial failure, timeout, cancellation), with StatusCode 0. When
	// a response did arrive, Err is nil unless reading its body failed;
	// Outcome then still follows the status code, since the receiver has
	// already answered.
	Err error
}
