package dispatch

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// ErrInvalidRequest is wrapped by the error of a request that was not sent
// because it cannot be (Outcome Invalid), and by CheckRequest's and
// CheckHeader's errors.
var ErrInvalidRequest = errors.New("request not sent: it is invalid")

// CheckHeader reports whether a request can carry the header name: value
// as Go's client sends it: name a token, value without control characters
// but tab (no NUL, CR, LF or DEL). The error wraps ErrInvalidRequest.
func CheckHeader(name, value string) error {
	if !httpguts.ValidHeaderFieldName(name) {
		return fmt.Errorf("%w: header name %q is not a token", ErrInvalidRequest, name)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		// Not the value: it may be a secret.
		return fmt.Errorf("%w: the value of header %q holds a control character (only tab is allowed)", ErrInvalidRequest, name)
	}
	return nil
}

// CheckRequest reports whether req can be sent: everything Do checks before
// sending, which is everything Go's client (HTTP/1.1 and HTTP/2) checks
// before it writes a request, and its TLS settings. A Request for which it
// returns nil never gets the Outcome Invalid. The error wraps
// ErrInvalidRequest.
func CheckRequest(req Request) error {
	if _, err := buildRequest(context.Background(), req); err != nil {
		return err
	}
	if req.TLS != nil {
		if _, err := ParseTLS(req.TLS); err != nil {
			return fmt.Errorf("%w: tls: %w", ErrInvalidRequest, err)
		}
	}
	return nil
}

// buildRequest turns req into the outgoing request, without modifying req,
// and refuses what Go's client would refuse before sending anything: a
// method that is not a token, a URL that does not parse or is not http or
// https with a host, a host that is not a valid (IDNA) name or ends in a
// number without being an IPv4 address, a request target with control
// characters, invalid header names or values, and the connection headers
// HTTP/2 refuses. A numeric IPv4 host ("0x7f.1") is sent to the address it
// denotes (CheckURL judged that address). Errors wrap ErrInvalidRequest.
func buildRequest(ctx context.Context, req Request) (*http.Request, error) {
	method := cmp.Or(req.Method, http.MethodPost)
	if !httpguts.ValidHeaderFieldName(method) { // a method is a token too
		return nil, fmt.Errorf("%w: method %q is not a token", ErrInvalidRequest, method)
	}
	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	httpReq, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%w: building request: %w", ErrInvalidRequest, err)
	}
	u := httpReq.URL
	if err := checkScheme(u.Scheme); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: URL has no host", ErrInvalidRequest)
	}
	if err := canonicalHost(httpReq); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if host, err := httpguts.PunycodeHostPort(u.Host); err != nil || !httpguts.ValidHostHeader(host) {
		return nil, fmt.Errorf("%w: URL host %q is not a valid host name", ErrInvalidRequest, u.Host)
	}
	if uri := u.RequestURI(); uri == "" || (uri[0] != '/' && uri != "*") || strings.ContainsFunc(uri, isControl) {
		return nil, fmt.Errorf("%w: URL path %q is not a valid request target", ErrInvalidRequest, uri)
	}
	for name, values := range req.Header {
		for _, v := range values {
			if err := CheckHeader(name, v); err != nil {
				return nil, err
			}
		}
	}
	if err := checkConnectionHeaders(req.Header); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return httpReq, nil
}

// checkConnectionHeaders refuses the connection headers that Go's HTTP/2
// client refuses to send (the same as its HTTP/1.1 client sends).
func checkConnectionHeaders(h http.Header) error {
	if vv := h["Upgrade"]; len(vv) > 0 && vv[0] != "" && vv[0] != "chunked" {
		return errors.New("an Upgrade header cannot be sent over HTTP/2")
	}
	if vv := h["Transfer-Encoding"]; len(vv) > 0 && (len(vv) > 1 || vv[0] != "" && vv[0] != "chunked") {
		return errors.New("a Transfer-Encoding header other than chunked cannot be sent over HTTP/2")
	}
	if vv := h["Connection"]; len(vv) > 0 && (len(vv) > 1 || vv[0] != "" && !strings.EqualFold(vv[0], "close") && !strings.EqualFold(vv[0], "keep-alive")) {
		return errors.New("a Connection header other than close or keep-alive cannot be sent over HTTP/2")
	}
	return nil
}

// isControl reports whether r is an ASCII control character.
func isControl(r rune) bool { return r < ' ' || r == 0x7f }
