package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/store"
)

// apiKeyPrefix starts every key herald issues.
const apiKeyPrefix = "hk_"

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
			} else if strings.HasPrefix(token, apiKeyPrefix) {
				id, err := store.New(a.pool).APIKeyByHash(r.Context(), got[:])
				switch {
				case err == nil:
					who = "key:" + id.String()
				case !errors.Is(err, pgx.ErrNoRows):
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

// apiKeyResponse is an API key as listed; Key only when created.
type apiKeyResponse struct {
	ID        uuid.UUID  `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// Key is the secret key, shown only in the response that creates it.
	Key string `json:"key,omitempty"`
}

func (k *apiKeyResponse) location() string { return "/v1/keys/" + k.ID.String() }

type createKeyRequest struct {
	Name string `json:"name"`
}

func (a *API) parseCreateKey(w http.ResponseWriter, r *http.Request, req *createKeyRequest) error {
	return decodeJSON(w, r, 64<<10, req)
}

// createKey issues an API key ("hk_" + 32 random base32 characters); only its
// SHA-256 is stored.
func (a *API) createKey(ctx context.Context, req *createKeyRequest) (*apiKeyResponse, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 200 {
		return nil, invalidFields(http.StatusUnprocessableEntity, fieldError("name", "is required, at most 200 bytes"))
	}
	key := apiKeyPrefix + strings.ToLower(rand.Text())
	sum := sha256.Sum256([]byte(key))
	row, err := store.New(a.pool).CreateAPIKey(ctx, store.CreateAPIKeyParams{
		ID: uuid.Must(uuid.NewV7()), Name: name, Prefix: key[:len(apiKeyPrefix)+6], Hash: sum[:],
	})
	if err != nil {
		return nil, err
	}
	return &apiKeyResponse{ID: row.ID, Name: row.Name, Prefix: row.Prefix, CreatedAt: row.CreatedAt, Key: key}, nil
}

type listKeysResponse struct {
	Data []*apiKeyResponse `json:"data"`
}

func (a *API) listKeys(ctx context.Context, _ *struct{}) (*listKeysResponse, error) {
	rows, err := store.New(a.pool).ListAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := &listKeysResponse{Data: make([]*apiKeyResponse, len(rows))}
	for i, k := range rows {
		out.Data[i] = &apiKeyResponse{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
	}
	return out, nil
}

type keyIDRequest struct {
	id uuid.UUID
}

func parseKeyID(_ http.ResponseWriter, r *http.Request, req *keyIDRequest) error {
	id, err := parseUUID(chi.URLParam(r, "keyID"), "API key")
	req.id = id
	return err
}

// revokeKey revokes a key; requests with it are refused from now on. A key
// already revoked is not found (404).
func (a *API) revokeKey(ctx context.Context, req *keyIDRequest) (*struct{}, error) {
	_, err := store.New(a.pool).RevokeAPIKey(ctx, req.id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &apiError{status: http.StatusNotFound, kind: "not-found", detail: "API key " + req.id.String() + " not found, or already revoked"}
	}
	return nil, err
}
