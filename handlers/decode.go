package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/herald-sched/herald/internal/jobspec"
)

// decodeJSON reads a JSON request body of at most maxBytes into dst. Unknown
// fields, trailing data, values of the wrong type, duplicate keys, and
// strings that are not valid UTF-8 or hold NUL or unpaired surrogates (see
// checkJSON) are refused with an *apiError naming the field.
func decodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		return decodeReadError(err, maxBytes)
	}
	if len(body) == 0 {
		return badRequest("request body is empty: send a JSON object", nil)
	}
	if err := checkJSON(body, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
			return badRequest(fmt.Sprintf("malformed JSON: %v", err), nil)
		}
		var generic any
		gdec := json.NewDecoder(bytes.NewReader(body))
		gdec.UseNumber() // 1e400 is a number here, refused where it goes
		if gdec.Decode(&generic) == nil {
			if field, msg := locate(generic, reflect.TypeOf(dst), ""); field != "" {
				return invalidFields(http.StatusBadRequest, fieldError(field, msg))
			}
		}
		return badRequest(fmt.Sprintf("invalid JSON: %v", err), nil)
	}
	if dec.More() {
		return badRequest("unexpected data after the JSON object", nil)
	}
	return nil
}

// decodeReadError is the problem for a request body that could not be read.
func decodeReadError(err error, maxBytes int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{status: http.StatusRequestEntityTooLarge, kind: "body-too-large",
			detail: fmt.Sprintf("request body is larger than %d bytes", maxBytes)}
	}
	return badRequest("could not read request body", err)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// locate finds the first value of data, a generic JSON document, that does
// not fit the Go type t, and returns its path ("tasks[0].request.timeout")
// and what is wrong with it. encoding/json reports neither the path of an
// unknown field nor that of an error from a custom UnmarshalJSON.
func locate(data any, t reflect.Type, path string) (string, string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if data == nil {
		return "", ""
	}
	// A struct with fields and its own UnmarshalJSON (jobspec.Request) is
	// searched field by field like any other.
	if reflect.PointerTo(t).Implements(unmarshalerType) && !(t.Kind() == reflect.Struct && hasExportedFields(t)) {
		raw, _ := json.Marshal(data)
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return orRoot(path), err.Error()
		}
		return "", ""
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := data.(map[string]any)
		if !ok {
			return orRoot(path), "must be an object"
		}
		for key, val := range obj {
			f, ok := fieldByJSONName(t, key)
			if !ok {
				return join(path, key), "unknown field"
			}
			if p, msg := locate(val, f.Type, join(path, key)); p != "" {
				return p, msg
			}
		}
		return "", ""
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			break // json.RawMessage and []byte
		}
		arr, ok := data.([]any)
		if !ok {
			return orRoot(path), "must be an array"
		}
		for i, val := range arr {
			if p, msg := locate(val, t.Elem(), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p, msg
			}
		}
		return "", ""
	case reflect.Map:
		obj, ok := data.(map[string]any)
		if !ok {
			return orRoot(path), "must be an object"
		}
		for key, val := range obj {
			if p, msg := locate(val, t.Elem(), join(path, key)); p != "" {
				return p, msg
			}
		}
		return "", ""
	}
	raw, _ := json.Marshal(data)
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		return orRoot(path), "must be " + kindName(t)
	}
	return "", ""
}

func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.Kind().String()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// refuseBadInput refuses a request whose path or query holds what cannot
// reach PostgreSQL (NUL, bytes that are not UTF-8), before any handler (or
// the idempotency middleware, which stores the path) sees it: a query
// parameter with 400 naming it, a path with 404. fail writes the problem
// (problem+json for the API, an error page for the pages).
func refuseBadInput(fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !jobspec.StorableText(r.URL.Path) {
				fail(w, r, &apiError{status: http.StatusNotFound, kind: "not-found", detail: "no such route: the path is not UTF-8 text without NUL"})
				return
			}
			if err := checkQuery(r); err != nil {
				fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// checkQuery refuses, with 400 naming the parameter, a query parameter
// whose name or value is not UTF-8 text without NUL.
func checkQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	for name, values := range r.URL.Query() {
		field := strings.ToValidUTF8(name, "\uFFFD")
		if !jobspec.StorableText(name) {
			return invalidFields(http.StatusBadRequest, fieldError(field, "parameter names must be UTF-8 text without NUL"))
		}
		for _, v := range values {
			if !jobspec.StorableText(v) {
				return invalidFields(http.StatusBadRequest, fieldError(field, "must be UTF-8 text without NUL"))
			}
		}
	}
	return nil
}
