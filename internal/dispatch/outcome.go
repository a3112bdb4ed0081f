package dispatch

import (
	"net/http"
	"strconv"
)

// Outcome is what a delivery attempt means for the task: done, try again
// later, or give up. The zero value is not a valid Outcome, so that an unset
// Result is never mistaken for a success.
type Outcome int

// The outcomes of a delivery attempt.
const (
	// Success is a 2xx response.
	Success Outcome = iota + 1
	// Retryable is a failure that may go away: a network error, a timeout,
	// 408, 425, 429 or 5xx.
	Retryable
	// Permanent is a failure that retrying will not fix: any other status
	// (other 4xx, 1xx, 3xx: redirects are not followed) or a refused target
	// address.
	Permanent
	// Invalid is a request that was not sent because it cannot be: herald
	// could not build it, or Go's client would refuse it before sending
	// anything (a header value with a control character, an invalid method,
	// URL or TLS setting). The task is at fault, not its target: retrying
	// will not fix it, and it says nothing of the target's health. Result.Err
	// wraps ErrInvalidRequest.
	Invalid
)

// String returns the outcome's name in lower case.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case Invalid:
		return "invalid"
	default:
		return "Outcome(" + strconv.Itoa(int(o)) + ")"
	}
}

// Classify returns the outcome of a response with the given status code
// (a pull-mode device reports its status; a pushed response has it).
func Classify(status int) Outcome { return classify(status) }

// classify returns the outcome of a response with the given status code.
func classify(status int) Outcome {
	switch {
	case status >= 200 && status <= 299:
		return Success
	case status >= 500 && status <= 599,
		status == http.StatusRequestTimeout,
		status == http.StatusTooEarly,
		status == http.StatusTooManyRequests:
		return Retryable
	default:
		return Permanent
	}
}
