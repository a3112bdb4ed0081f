package openapi_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/openapi"
)

// What this file checks is what Redocly's lint (redocly.yaml) and generated
// clients need and can be checked without the network; Redocly itself runs
// from npm (README, "OpenAPI").

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	return doc
}

// isJSON reports whether a media type carries JSON (application/json,
// application/problem+json, ...).
func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

const schemaPrefix = "#/components/schemas/"

// TestEveryJSONBodyIsANamedSchema: every JSON request and response body
// refers to a schema under components/schemas, so that generated clients
// name its type instead of inventing one.
func TestEveryJSONBodyIsANamedSchema(t *testing.T) {
	t.Parallel()
	doc := load(t)
	var unnamed []string
	checkContent := func(where string, content openapi3.Content) {
		for _, mt := range slices.Sorted(maps.Keys(content)) {
			if !isJSON(mt) {
				continue // text bodies (metrics, DOT, SVG, YAML) are strings
			}
			if s := content[mt].Schema; s == nil || !strings.HasPrefix(s.Ref, schemaPrefix) {
				unnamed = append(unnamed, where+" "+mt)
			}
		}
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			where := method + " " + path
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				checkContent(where+" request", rb.Value.Content)
			}
			for status, resp := range op.Responses.Map() {
				if resp.Value != nil {
					checkContent(fmt.Sprintf("%s %s", where, status), resp.Value.Content)
				}
			}
		}
	}
	for name, resp := range doc.Components.Responses {
		checkContent("components/responses/"+name, resp.Value.Content)
	}
	slices.Sort(unnamed)
	require.Empty(t, unnamed, "JSON bodies with an inline schema: name them under components/schemas")
}

// TestNoAnonymousObjectsInSchemas: an object with properties nested in a
// named schema (a property, an array's items) is itself a named schema, for
// the same reason.
func TestNoAnonymousObjectsInSchemas(t *testing.T) {
	t.Parallel()
	doc := load(t)
	var anonymous []string
	var walk func(where string, s *openapi3.SchemaRef)
	walk = func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Ref != "" || s.Value == nil {
			return // a named schema is checked on its own
		}
		if len(s.Value.Properties) > 0 {
			anonymous = append(anonymous, where)
		}
		eachChild(where, s.Value, walk)
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		// The named schema itself may have properties; what it holds may not.
		eachChild(name, doc.Components.Schemas[name].Value, walk)
	}
	require.Empty(t, anonymous, "objects with properties inside named schemas: name them under components/schemas")
}

// eachChild calls visit with every schema v holds: properties, items,
// additional properties, allOf/oneOf/anyOf members.
func eachChild(where string, v *openapi3.Schema, visit func(string, *openapi3.SchemaRef)) {
	for _, name := range slices.Sorted(maps.Keys(v.Properties)) {
		visit(where+"."+name, v.Properties[name])
	}
	visit(where+"[]", v.Items)
	visit(where+"{}", v.AdditionalProperties.Schema)
	for i, sub := range slices.Concat(v.AllOf, v.OneOf, v.AnyOf) {
		visit(fmt.Sprintf("%s/%d", where, i), sub)
	}
}

// TestDocumentMetadata: Redocly's recommended rules want a license and a
// description for every tag, and every operation's tags declared.
func TestDocumentMetadata(t *testing.T) {
	t.Parallel()
	doc := load(t)
	require.NotNil(t, doc.Info.License, "info.license")
	require.NotEmpty(t, doc.Info.License.Name)
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		require.NotEmpty(t, strings.TrimSpace(tag.Description), "tag %q has no description", tag.Name)
		declared[tag.Name] = true
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			require.NotEmpty(t, op.OperationID, "%s %s has no operationId", method, path)
			require.NotEmpty(t, op.Tags, "%s %s has no tag", method, path)
			for _, tag := range op.Tags {
				require.True(t, declared[tag], "%s %s uses the undeclared tag %q", method, path, tag)
			}
		}
	}
}
