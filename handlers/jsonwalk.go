package handlers

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxJSONDepth bounds how deeply a request body may nest objects and arrays
// (a task's request body included).
const maxJSONDepth = 256

// checkJSON reads body, a JSON document decoding into the Go type t, as a
// stream of tokens (encoding/json's Decoder, linear in the body's size) and
// refuses, naming the path of the offending value ("tasks[0].request.url"):
//   - malformed JSON, and nesting deeper than maxJSONDepth (400);
//   - an object key that t has no field for (400): encoding/json neither
//     names the path of an unknown field nor sees one under a type with its
//     own UnmarshalJSON;
//   - a string, key or value, that is not valid UTF-8 (encoding/json would
//     turn its bytes into U+FFFD), holds NUL (\u0000: PostgreSQL's text and
//     jsonb cannot store it), or an unpaired UTF-16 surrogate escape such as
//     \ud800 (not a character; encoding/json would turn it into U+FFFD, and
//     jsonb refuses it) (422);
//   - a key given twice in one object (422): encoding/json would keep the
//     last, silently. Keys that name the same field of t ("name", "Name")
//     count as one.
//
// It reads only the first JSON value of body; decodeJSON refuses trailing
// data.
func checkJSON(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // no float conversion: any number is fine here
	w := jsonWalk{}
	prev := int64(0)
	for started := false; !started || len(w.stack) > 0; started = true {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return badRequest(fmt.Sprintf("malformed JSON: %v", err), nil)
		}
		end := dec.InputOffset()
		raw := bytes.TrimLeft(body[prev:end], " \t\r\n,:")
		prev = end
		if err := w.token(tok, raw, t); err != nil {
			return err
		}
	}
	return nil
}

// jsonWalk is the state of checkJSON: the objects and arrays open around
// the current token.
type jsonWalk struct {
	stack []jsonFrame
}

// jsonFrame is an open object or array.
type jsonFrame struct {
	array bool
	// index is the array's current element.
	index int
	// key is the object's current key; wantKey says a key comes next.
	key     string
	wantKey bool
	// typ is the Go type of the object or array (a struct, map or slice),
	// nil when not tracked (json.RawMessage, or a type mismatch that
	// encoding/json reports); child is the type of its current value.
	typ, child reflect.Type
	// seen holds the keys met so far: field names for a struct (matched
	// case-insensitively, as encoding/json does), keys otherwise; in a
	// slice while the object is small, then in seenSet.
	seen    []string
	seenSet map[string]struct{}
}

// maxSeenSlice is how many keys of an object are kept in a slice, searched
// linearly, before they move to a map.
const maxSeenSlice = 16

// see records key in the object and reports whether it was there already.
func (f *jsonFrame) see(key string) bool {
	if f.seenSet != nil {
		if _, dup := f.seenSet[key]; dup {
			return true
		}
		f.seenSet[key] = struct{}{}
		return false
	}
	if slices.Contains(f.seen, key) {
		return true
	}
	if len(f.seen) < maxSeenSlice {
		f.seen = append(f.seen, key)
		return false
	}
	f.seenSet = make(map[string]struct{}, 2*maxSeenSlice)
	for _, k := range f.seen {
		f.seenSet[k] = struct{}{}
	}
	f.seenSet[key] = struct{}{}
	f.seen = nil
	return false
}

// token handles the next token of the walk; raw is its JSON text.
func (w *jsonWalk) token(tok json.Token, raw []byte, root reflect.Type) error {
	var top *jsonFrame
	if n := len(w.stack); n > 0 {
		top = &w.stack[n-1]
	}
	if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
		w.stack = w.stack[:len(w.stack)-1]
		w.valueDone()
		return nil
	}
	if top != nil && top.wantKey {
		return w.key(top, tok.(string), raw)
	}
	typ := root
	if top != nil {
		typ = top.child
	}
	switch tok := tok.(type) {
	case json.Delim: // '{' or '['
		if len(w.stack) >= maxJSONDepth {
			return invalidFields(http.StatusBadRequest, fieldError(w.path(), fmt.Sprintf("nests deeper than %d levels", maxJSONDepth)))
		}
		f := jsonFrame{array: tok == '[', wantKey: tok == '{', typ: containerType(typ, tok)}
		if f.array && f.typ != nil {
			f.child = f.typ.Elem()
		}
		w.stack = append(w.stack, f)
	case string:
		if msg := checkString(raw); msg != "" {
			return invalidFields(http.StatusUnprocessableEntity, fieldError(w.path(), msg))
		}
		w.valueDone()
	default:
		w.valueDone()
	}
	return nil
}

// key handles the key of an object's next member.
func (w *jsonWalk) key(top *jsonFrame, key string, raw []byte) error {
	top.key, top.wantKey, top.child = key, false, nil
	if msg := checkString(raw); msg != "" {
		return invalidFields(http.StatusUnprocessableEntity, fieldError(w.path(), "key "+msg))
	}
	seenAs := key
	if top.typ != nil {
		switch top.typ.Kind() {
		case reflect.Struct:
			f, ok := jsonFieldOf(top.typ, key)
			if !ok {
				return invalidFields(http.StatusBadRequest, fieldError(w.path(), "unknown field"))
			}
			seenAs, top.child = f.Name, f.Type
		case reflect.Map:
			top.child = top.typ.Elem()
		}
	}
	if top.see(seenAs) {
		return invalidFields(http.StatusUnprocessableEntity, fieldError(w.path(), "is given twice in the same object"))
	}
	return nil
}

// jsonFields maps each struct type met to its fields by lower-case JSON
// name (map[string]reflect.StructField).
var jsonFields sync.Map

// jsonFieldOf is the field of struct type t that the JSON key names,
// matched case-insensitively as encoding/json does (fieldByJSONName,
// cached).
func jsonFieldOf(t reflect.Type, key string) (reflect.StructField, bool) {
	cached, ok := jsonFields.Load(t)
	if !ok {
		byName := make(map[string]reflect.StructField, t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && name != "-" {
				byName[strings.ToLower(cmp.Or(name, f.Name))] = f
			}
		}
		cached, _ = jsonFields.LoadOrStore(t, byName)
	}
	byName := cached.(map[string]reflect.StructField)
	if f, ok := byName[key]; ok {
		return f, true
	}
	f, ok := byName[strings.ToLower(key)]
	return f, ok
}

// valueDone moves past a complete value: to the next element of an array,
// or the next key of an object.
func (w *jsonWalk) valueDone() {
	if n := len(w.stack); n > 0 {
		top := &w.stack[n-1]
		if top.array {
			top.index++
		} else {
			top.wantKey = true
		}
	}
}

// path is the path of the current value (or key): "tasks[0].request.url",
// "(body)" for the whole body.
func (w *jsonWalk) path() string {
	var b strings.Builder
	for i := range w.stack {
		f := &w.stack[i]
		switch {
		case f.array:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		case f.wantKey && i == len(w.stack)-1:
			// between members: the object itself
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(strings.ToValidUTF8(f.key, "\uFFFD"))
		}
	}
	return orRoot(b.String())
}

// containerType is the Go type an object or array (delim) of a value of
// type t is tracked as: a struct with exported fields, a map or a slice
// (not []byte, such as json.RawMessage, whose content is free), pointers
// followed; nil otherwise, and when t is nil.
func containerType(t reflect.Type, delim json.Delim) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return nil
	}
	switch {
	case delim == '{' && t.Kind() == reflect.Struct && hasExportedFields(t):
		return t
	case delim == '{' && t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		return t
	case delim == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8:
		return t
	}
	return nil // time.Time, json.RawMessage, a type mismatch: not tracked
}

func hasExportedFields(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return true
		}
	}
	return false
}

// checkString says what is wrong with raw, a JSON string as written (with
// its quotes), or "" if nothing is: invalid UTF-8, an escaped NUL, or an
// escaped UTF-16 surrogate that is not half of a pair.
func checkString(raw []byte) string {
	if !utf8.Valid(raw) {
		return "is not valid UTF-8"
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character; the decoder checked the syntax
		if raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4
		switch {
		case r == 0:
			return `holds NUL (\u0000), which cannot be stored`
		case r >= 0xd800 && r < 0xdc00: // a high surrogate: a low one must follow
			if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if lo := hex4(raw[i+3:]); lo >= 0xdc00 && lo < 0xe000 {
					i += 6
					continue
				}
			}
			return fmt.Sprintf(`holds an unpaired UTF-16 surrogate (\u%04x), which is not a character`, r)
		case r >= 0xdc00 && r < 0xe000:
			return fmt.Sprintf(`holds an unpaired UTF-16 surrogate (\u%04x), which is not a character`, r)
		}
	}
	return ""
}

// hex4 reads the 4 hex digits b starts with.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
