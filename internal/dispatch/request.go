package dispatch

import (
	"net/http"
	"time"
)

// Request is one delivery attempt.
type Request struct {
	// Method is the HTTP method; default POST.
	Method string
	// URL is the absolute http or https URL to call.
	URL string
	// Header holds every header to send (signatures, Herald-*, traceparent,
	// the job's own headers), keyed canonically as http.Header.Set does.
	// Do only adds User-Agent, and Content-Type: application/json when Body
	// is not empty and Header has none. Do does not modify Header.
	Header http.Header
	// Body is the request body; empty means none.
	Body []byte
	// TLS, if set, are the delivery's own TLS settings (client certificate,
	// private CA).
	TLS *TLS
	// Timeout bounds the whole attempt, from dialing to reading the captured
	// part of the response body; default DefaultTimeout (30s).
	Timeout time.Duration
}
