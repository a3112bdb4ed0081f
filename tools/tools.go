//go:build tools

// Package tools pins the code generators herald uses. They live in their own
// module so that their large dependency trees stay out of the product's go.mod.
package tools

import (
	_ "github.com/a-h/templ/cmd/templ"
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "github.com/sqlc-dev/sqlc/cmd/sqlc"
)
