// Package pgurl edits libpq connection strings, in either of their forms
// (postgres:// URLs and keyword/value strings), for the tools that create
// databases of their own on a server DATABASE_URL names.
package pgurl

import (
	"errors"
	"net/url"
	"strings"
)

// WithDatabase returns connString with its database replaced by name, which
// must be a plain identifier.
func WithDatabase(connString, name string) (string, error) {
	if !isURL(connString) {
		// Keyword/value form: a later keyword overrides an earlier one.
		return connString + " dbname=" + name, nil
	}
	u, err := url.Parse(connString)
	if err != nil {
		// url.Error would quote the URL, password included.
		return "", errors.New("the database URL cannot be parsed as a URL")
	}
	u.Path, u.RawPath = "/"+name, ""
	if q := u.Query(); q.Has("dbname") {
		q.Set("dbname", name)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// Redact returns connString without its password, for reports and logs.
func Redact(connString string) string {
	u, err := url.Parse(connString)
	if !isURL(connString) || err != nil {
		return "(keyword/value connection string)"
	}
	return u.Redacted()
}

// isURL reports whether connString is in the URL form.
func isURL(connString string) bool {
	return strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://")
}
