package taskref

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseJSON returns the references in the string values of the JSON
// document doc, in document order, or an error: a *SyntaxError (with
// Pointer set) for a malformed template, another error for invalid JSON.
// Object keys are not templates.
func ParseJSON(doc []byte) ([]Ref, error) {
	if err := validJSON(doc); err != nil {
		return nil, err
	}
	if !mayHoldTemplate(doc) {
		return nil, nil
	}
	var refs []Ref
	w := &walker{doc: doc}
	_, err := w.walk(func(dst, raw []byte) ([]byte, error) {
		if !mayHoldTemplate(raw) {
			return dst, nil
		}
		r, err := Parse(unquote(raw))
		var se *SyntaxError
		if errors.As(err, &se) {
			se.Pointer = w.pointer()
		}
		refs = append(refs, r...)
		return dst, err
	})
	if err != nil {
		return nil, err
	}
	return refs, nil
}

// RenderJSON substitutes the references in the string values of the JSON
// document doc and returns the result as compact JSON. A string value that
// is exactly one reference becomes the referenced JSON value, keeping its
// type; references in other strings are inserted as text (see the package
// documentation). Object keys are not templates.
//
// A document that cannot hold a reference (it contains neither "{{" nor a
// \u007 escape, which could spell a brace) is only validated and returned
// as is, without copying or compaction.
func RenderJSON(doc []byte, results map[string]Result) ([]byte, error) {
	if err := validJSON(doc); err != nil {
		return nil, err
	}
	if !mayHoldTemplate(doc) {
		return doc, nil
	}
	w := &walker{doc: doc, emit: true}
	return w.walk(func(dst, raw []byte) ([]byte, error) {
		if !mayHoldTemplate(raw) {
			return append(dst, raw...), nil
		}
		return renderJSONString(dst, unquote(raw), results)
	})
}

// renderJSONString appends the rendering of the template s, a JSON string
// value, to dst.
func renderJSONString(dst []byte, s string, results map[string]Result) ([]byte, error) {
	pieces, err := parse(s)
	if err != nil {
		return nil, err
	}
	if len(pieces) == 1 && pieces[0].isRef {
		v, err := resolve(pieces[0].ref, results)
		return append(dst, v...), err
	}
	out, err := appendExpanded(nil, pieces, results, func(_ []byte, _ Ref, v string) (string, error) {
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return appendJSONString(dst, out), nil
}

func validJSON(doc []byte) error {
	if json.Valid(doc) {
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(doc, &v)
	if err == nil {
		err = errors.New("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid JSON document: %w", err)
}

// mayHoldTemplate reports whether JSON text may hold "{{" once decoded.
func mayHoldTemplate(raw []byte) bool {
	return bytes.Contains(raw, []byte(open)) || bytes.Contains(raw, []byte(`\u007`))
}

// unquote decodes a valid JSON string literal.
func unquote(raw []byte) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		panic("taskref: invalid string in validated JSON: " + err.Error())
	}
	return s
}

// appendJSONString appends s to dst as a JSON string literal, replacing
// invalid UTF-8 with U+FFFD. Unlike encoding/json it does not escape
// <, > and &.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c < ' ':
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// walker scans a valid JSON document, handing each string value (not
// keys) to a visitor and, if emit is set, copying everything else without
// insignificant whitespace.
type walker struct {
	doc    []byte
	emit   bool
	out    []byte
	frames []frame // the open objects and arrays, outermost first
}

// frame is an open object or array.
type frame struct {
	array bool
	index int    // current element of an array
	key   []byte // current member of an object, as a JSON literal
}

// visitFunc handles a string value given as its JSON literal raw,
// appending its replacement to dst when emitting.
type visitFunc func(dst, raw []byte) ([]byte, error)

func (w *walker) walk(visit visitFunc) ([]byte, error) {
	if w.emit {
		w.out = make([]byte, 0, len(w.doc))
	}
	for i := 0; i < len(w.doc); {
		c := w.doc[i]
		if c == '"' {
			end := stringEnd(w.doc, i)
			if err := w.onString(w.doc[i:end], end, visit); err != nil {
				return nil, err
			}
			i = end
			continue
		}
		if !isSpace(c) {
			w.onByte(c)
		}
		i++
	}
	return w.out, nil
}

func (w *walker) onString(raw []byte, end int, visit visitFunc) error {
	if w.isKey(end) {
		w.frames[len(w.frames)-1].key = raw
		w.put(raw...)
		return nil
	}
	out, err := visit(w.out, raw)
	w.out = out
	return err
}

func (w *walker) onByte(c byte) {
	switch c {
	case '{', '[':
		w.frames = append(w.frames, frame{array: c == '['})
	case '}', ']':
		w.frames = w.frames[:len(w.frames)-1]
	case ',':
		if top := &w.frames[len(w.frames)-1]; top.array {
			top.index++
		}
	}
	w.put(c)
}

func (w *walker) put(b ...byte) {
	if w.emit {
		w.out = append(w.out, b...)
	}
}

// isKey reports whether the string ending at end is an object key, that
// is, followed by a colon.
func (w *walker) isKey(end int) bool {
	for end < len(w.doc) && isSpace(w.doc[end]) {
		end++
	}
	return end < len(w.doc) && w.doc[end] == ':'
}

// pointer returns the JSON Pointer of the current value.
func (w *walker) pointer() string {
	var b strings.Builder
	escape := strings.NewReplacer("~", "~0", "/", "~1")
	for _, f := range w.frames {
		b.WriteByte('/')
		if f.array {
			b.WriteString(strconv.Itoa(f.index))
			continue
		}
		b.WriteString(escape.Replace(unquote(f.key)))
	}
	return b.String()
}

// stringEnd returns the offset just past the JSON string literal starting
// at doc[i], which must be valid.
func stringEnd(doc []byte, i int) int {
	for i++; ; i++ {
		switch doc[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}
