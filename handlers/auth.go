package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/herald-sched/herald/internal/access"
)

type principalKey struct{}

// principal names who made the request: "bootstrap", "insecure", or
// "key:<id>". Idempotency keys are scoped to it.
func principal(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
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
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, "insecure")))
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
			who := ""
			if bootstrap != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				who = "bootstrap"
			} else if strings.HasPrefix(token, access.KeyPrefix) {
				id, err := access.KeyByToken(r.Context(), a.pool, token)
				switch {
				case err == nil:
					who = "key:" + id.String()
				case !errors.Is(err, access.ErrKeyNotFound):
					writeError(w, r, a.logger, err)
					return
				}
			}
			if who == "" {
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
