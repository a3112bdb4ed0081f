package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/access"
)

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
	if err := decodeJSON(w, r, 64<<10, req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		return invalidFields(http.StatusUnprocessableEntity, fieldError("name", "is required, at most 200 bytes"))
	}
	return nil
}

// createKey issues an API key (access.CreateKey); the response is the only
// one that shows it.
func (a *API) createKey(ctx context.Context, tx pgx.Tx, req *createKeyRequest) (*apiKeyResponse, error) {
	row, key, err := access.CreateKey(ctx, tx, req.Name)
	if err != nil {
		return nil, err
	}
	return &apiKeyResponse{ID: row.ID, Name: row.Name, Prefix: row.Prefix, CreatedAt: row.CreatedAt, Key: key}, nil
}

type listKeysResponse struct {
	Data []*apiKeyResponse `json:"data"`
}

func (a *API) listKeys(ctx context.Context, _ *struct{}) (*listKeysResponse, error) {
	rows, err := access.ListKeys(ctx, a.pool)
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
func (a *API) revokeKey(ctx context.Context, tx pgx.Tx, req *keyIDRequest) (*struct{}, error) {
	err := access.RevokeKey(ctx, tx, req.id)
	if errors.Is(err, access.ErrKeyNotFound) {
		return nil, &apiError{status: http.StatusNotFound, kind: "not-found", detail: "API key " + req.id.String() + " not found, or already revoked"}
	}
	return nil, err
}
