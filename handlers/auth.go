package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/herald-sched/herald/internal/access"
	"github.com/herald-sched/herald/internal/jobspec"
)

type principalKey struct{}

// principal is who made the request (requireKey): its scope, its label
// limit; idempotency keys and audit rows are by its name. A request that
// did not go through requireKey is nobody's: no scope at all.
func principal(ctx context.Context) *access.Principal {
	if p, ok := ctx.Value(principalKey{}).(*access.Principal); ok {
		return p
	}
	return &access.Principal{Name: "nobody"}
}

// requireKey refuses requests without `Authorization: Bearer <key>`, where
// key is the bootstrap key (HERALD_API_KEY) or a key created through
// /v1/keys and not revoked. Keys are compared as SHA-256 digests: in
// constant time for the bootstrap key, by an indexed lookup for the others.
// Revocation takes effect at once: nothing is cached.
func (a *API) requireKey(bootstrap string, insecure bool) func(http.Handler) http.Handler {
	return a.requireKeyAs(bootstrap, insecure, false)
}

// requireKeyAs is requireKey; with basic, for pages a browser opens, the
// key may also come as the password of HTTP Basic authentication (any user
// name), and a missing key asks the browser for it.
func (a *API) requireKeyAs(bootstrap string, insecure, basic bool) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(bootstrap))
	challenge := `Bearer realm="herald"`
	if basic {
		challenge = `Basic realm="herald", charset="UTF-8"`
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if insecure {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, &access.Insecure)))
				return
			}
			scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
			if basic && strings.EqualFold(scheme, "Basic") {
				_, token, ok = r.BasicAuth()
				scheme = "Bearer"
			}
			if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
				w.Header().Set("WWW-Authenticate", challenge)
				writeProblem(w, &apiError{status: http.StatusUnauthorized, kind: "unauthorized", detail: "missing API key: send Authorization: Bearer <key>"})
				return
			}
			got := sha256.Sum256([]byte(token))
			var who *access.Principal
			if bootstrap != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				who = &access.Bootstrap
			} else if strings.HasPrefix(token, access.KeyPrefix) {
				p, err := access.KeyByToken(r.Context(), a.pool, token)
				switch {
				case err == nil:
					who = p
				case !errors.Is(err, access.ErrKeyNotFound):
					writeError(w, r, a.logger, err)
					return
				}
			}
			if who == nil {
				if basic {
					w.Header().Set("WWW-Authenticate", challenge)
				} else {
					w.Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
				}
				writeProblem(w, &apiError{status: http.StatusUnauthorized, kind: "unauthorized", detail: "invalid or revoked API key"})
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, who)))
		})
	}
}

// requireScope refuses a request its key's scope does not reach (403,
// naming the scope it needs): reading (GET, HEAD) needs read, writing
// needs write, and the keys and the audit log need admin whatever the
// method.
func (a *API) requireScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := scopeNeeded(r)
		if p := principal(r.Context()); !p.Scope.Allows(need) {
			writeProblem(w, &apiError{status: http.StatusForbidden, kind: "scope", fields: []jobspec.FieldError{{Field: "scope", Message: "needs " + string(need)}},
				detail: "this key's scope is " + string(p.Scope) + ": " + r.Method + " " + r.URL.Path + " needs " + string(need)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// scopeNeeded is the scope a request needs.
func scopeNeeded(r *http.Request) access.Scope {
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	switch {
	case strings.HasPrefix(path, "/keys"), strings.HasPrefix(path, "/audit"), strings.HasPrefix(path, "/riverui"):
		return access.ScopeAdmin
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return access.ScopeRead
	}
	return access.ScopeWrite
}
