// Package store is herald's data access layer: SQL queries in queries/*.sql,
// compiled by sqlc into the typed Go code beside this file (do not edit the
// generated files; run `make generate`).
package store
