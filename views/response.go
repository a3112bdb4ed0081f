package views

import (
	"bytes"
	"encoding/json"
)

// pretty indents a response excerpt that is JSON, for a scrollable <pre>;
// anything else (text, or JSON cut at 4 KiB) is shown as it came.
func pretty(body string) string {
	if !json.Valid([]byte(body)) {
		return body
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(body), "", "  "); err != nil {
		return body
	}
	return b.String()
}
