package client

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Problem (generated from the document's Problem schema) is the error every
// call of Client returns when the server answers with an error status: the
// server's RFC 9457 problem+json document, or one made up from the status
// when the answer was something else (a proxy's HTML page, say).
var _ error = (*Problem)(nil)

// Error is the problem's status and detail, and the offending fields.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", p.Status, cmp.Or(p.Title, http.StatusText(p.Status)))
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	// The detail names the first field already; list them all when there
	// are several.
	if len(p.Fields) > 1 {
		for _, f := range p.Fields {
			fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
		}
	}
	return b.String()
}

// IsNotFound reports whether err is a Problem with status 404.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsValidation reports whether err is a Problem refusing what was sent: 400
// (it does not fit the schema) or 422 (values that are not acceptable).
func IsValidation(err error) bool {
	s := statusOf(err)
	return s == http.StatusBadRequest || s == http.StatusUnprocessableEntity
}

func statusOf(err error) int {
	var p *Problem
	if errors.As(err, &p) {
		return p.Status
	}
	return 0
}

// problemFrom reads the problem of an answer with an error status.
func problemFrom(resp *http.Response, body []byte) *Problem {
	p := &Problem{}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		if err := json.Unmarshal(body, p); err != nil {
			p = &Problem{}
		}
	}
	if p.Status == 0 {
		p.Status = resp.StatusCode
	}
	if p.Title == "" {
		p.Title = http.StatusText(resp.StatusCode)
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Detail == "" && mt != "application/problem+json" {
		p.Detail = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return p
}
