package heraldtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/openapi"
)

// LoadOpenAPI parses and validates openapi/openapi.yaml.
func LoadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "openapi.yaml is not a valid OpenAPI document")
	return doc
}

// registerDecoders registers, once per process, kin-openapi body decoders
// for herald's media types (a global registry in kin-openapi).
var registerDecoders sync.Once

// ValidateOpenAPI wraps a handler so that every exchange is checked against
// the OpenAPI document: the route must be documented, the response must
// match its documented status and schema, and a request the server accepted
// (2xx) must match the documented request schema. A mismatch fails the test.
func ValidateOpenAPI(t testing.TB) func(http.Handler) http.Handler {
	doc := LoadOpenAPI(t)
	registerDecoders.Do(func() {
		// Graphs in DOT and SVG are text.
		openapi3filter.RegisterBodyDecoder("text/vnd.graphviz", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("image/svg+xml", openapi3filter.PlainBodyDecoder)
	})
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reqBody, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)

			route, params, err := router.FindRoute(r)
			if err != nil {
				if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
					t.Errorf("%s %s answered %d but is not in openapi.yaml: %v", r.Method, r.URL.Path, rec.Code, err)
				}
			} else {
				check(t, r, reqBody, rec, route, params)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
}

func check(t testing.TB, r *http.Request, reqBody []byte, rec *httptest.ResponseRecorder, route *routers.Route, params map[string]string) {
	vr := r.Clone(context.Background())
	vr.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request:    vr,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if rec.Code/100 == 2 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s was accepted (%d) but does not match openapi.yaml: %v", r.Method, r.URL.Path, rec.Code, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s answered %d, which does not match openapi.yaml: %v\nbody: %s", r.Method, r.URL.Path, rec.Code, err, rec.Body.Bytes())
	}
}
