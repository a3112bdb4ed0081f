// Package openapi embeds herald's OpenAPI 3.1 document, the source of truth
// for the REST API (served at /openapi.yaml; tests validate every request
// and response against it).
package openapi

import _ "embed"

// Document is openapi.yaml.
//
//go:embed openapi.yaml
var Document []byte
