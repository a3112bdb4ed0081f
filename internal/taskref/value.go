package taskref

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Result is what a finished upstream task produced.
type Result struct {
	// Status is the HTTP status code of the response.
	Status int
	// Body is the JSON response body, or nil if the response was not JSON.
	Body json.RawMessage
}

// RefError reports a reference that cannot be resolved at run time.
type RefError struct {
	// Ref is the reference.
	Ref Ref
	// Reason says why it cannot be resolved.
	Reason string
}

// Error returns the reference and the reason, such as
// `{{ tasks.fetch.body.token }}: response of task fetch has no key "token"`.
func (e *RefError) Error() string { return e.Ref.String() + ": " + e.Reason }

func refError(r Ref, format string, args ...any) *RefError {
	return &RefError{Ref: r, Reason: fmt.Sprintf(format, args...)}
}

// resolve returns the JSON value r refers to, compacted.
func resolve(r Ref, results map[string]Result) ([]byte, error) {
	what := "response of task " + r.Task
	if r.IsInput() {
		what = "the run's input"
		if in, ok := results[InputKey]; !ok || len(in.Body) == 0 {
			return nil, refError(r, "the run has no input")
		}
	}
	res, ok := results[r.Task]
	switch {
	case !ok:
		return nil, refError(r, "task %s has no result", r.Task)
	case r.Field == FieldStatus:
		return strconv.AppendInt(nil, int64(res.Status), 10), nil
	case len(res.Body) == 0:
		return nil, refError(r, "response of task %s is not JSON", r.Task)
	}
	v := []byte(res.Body)
	for k, seg := range r.Path {
		next, reason := member(v, seg, location(r.Field, r.Path[:k]))
		if reason != "" {
			return nil, refError(r, "%s %s", what, reason)
		}
		v = next
	}
	var out bytes.Buffer
	if err := json.Compact(&out, v); err != nil {
		return nil, refError(r, "%s is not valid JSON", what)
	}
	return out.Bytes(), nil
}

// location names the value at path in a body or the input, such as
// "body.items.0".
func location(field string, path []string) string {
	if field != FieldInput {
		field = FieldBody
	}
	if len(path) == 0 {
		return field
	}
	return field + "." + strings.Join(path, ".")
}

// member selects seg in the JSON value v found at loc, or returns why it
// cannot.
func member(v []byte, seg, loc string) ([]byte, string) {
	switch kind := kindOf(v); kind {
	case "an object":
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return nil, "is not valid JSON"
		}
		m, ok := obj[seg]
		if !ok && (loc == FieldBody || loc == FieldInput) {
			return nil, fmt.Sprintf("has no key %q", seg)
		}
		if !ok {
			return nil, fmt.Sprintf("has no key %q in %s", seg, loc)
		}
		return m, ""
	case "an array":
		var arr []json.RawMessage
		if json.Unmarshal(v, &arr) != nil {
			return nil, "is not valid JSON"
		}
		i, ok := index(seg)
		if !ok {
			return nil, fmt.Sprintf("has an array at %s, not an object with key %q", loc, seg)
		}
		if i >= len(arr) {
			return nil, fmt.Sprintf("has no index %s in %s (length %d)", seg, loc, len(arr))
		}
		return arr[i], ""
	default:
		return nil, fmt.Sprintf("has %s at %s, not an object or array", kind, loc)
	}
}

// index parses an array index: a decimal integer without sign or leading
// zeros. Indexes too large for an int are reported as out of range by
// returning the largest int.
func index(seg string) (int, bool) {
	if seg == "" || seg[0] == '0' && len(seg) > 1 {
		return 0, false
	}
	for i := range len(seg) {
		if seg[i] < '0' || seg[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(seg)
	if err != nil {
		return int(^uint(0) >> 1), true
	}
	return i, true
}

// kindOf names the kind of the JSON value v, with an article.
func kindOf(v []byte) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// text returns the JSON value v as text: a string's content, any other
// value as it is (compact JSON).
func text(v []byte) string {
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return string(v)
}
