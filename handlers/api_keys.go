package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/access"
	"github.com/herald-sched/herald/internal/jobspec"
)

// apiKeyResponse is an API key as listed; Key only when created.
type apiKeyResponse struct {
	ID     uuid.UUID `json:"id"`
	Name   string    `json:"name"`
	Prefix string    `json:"prefix"`
	// Scope is admin, write or read; Labels, when set, limit the key to
	// the jobs carrying all of them.
	Scope     access.Scope      `json:"scope"`
	Labels    map[string]string `json:"labels"`
	CreatedAt time.Time         `json:"created_at"`
	RevokedAt *time.Time        `json:"revoked_at"`
	// Key is the secret key, shown only in the response that creates it.
	Key string `json:"key,omitempty"`
}

func (k *apiKeyResponse) location() string { return "/v1/keys/" + k.ID.String() }

type createKeyRequest struct {
	Name string `json:"name"`
	// Scope is admin, write or read; default read (the least).
	Scope access.Scope `json:"scope"`
	// Labels limit the key to the jobs carrying all of them (and their
	// runs); none: every job.
	Labels map[string]string `json:"labels"`
}

func (a *API) parseCreateKey(w http.ResponseWriter, r *http.Request, req *createKeyRequest) error {
	if err := decodeJSON(w, r, 64<<10, req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		return invalidFields(http.StatusUnprocessableEntity, fieldError("name", "is required, at most 200 bytes"))
	}
	if req.Scope == "" {
		req.Scope = access.ScopeRead
	}
	if !slices.Contains(access.Scopes(), req.Scope) {
		return invalidFields(http.StatusUnprocessableEntity, fieldError("scope", "must be admin, write or read"))
	}
	if len(req.Labels) > 32 {
		return invalidFields(http.StatusUnprocessableEntity, fieldError("labels", "at most 32 labels"))
	}
	for k, v := range req.Labels {
		if k == "" || len(k) > 63 || len(v) > 256 {
			return invalidFields(http.StatusUnprocessableEntity, fieldError("labels."+k, "keys of 1 to 63 bytes, values of at most 256"))
		}
	}
	return nil
}

// createKey issues an API key (access.CreateKey); the response is the only
// one that shows it. A key never creates a broader key than itself (403).
func (a *API) createKey(ctx context.Context, tx pgx.Tx, req *createKeyRequest) (*apiKeyResponse, error) {
	if why := principal(ctx).MayGrant(req.Scope, req.Labels); why != "" {
		return nil, &apiError{status: http.StatusForbidden, kind: "scope", detail: why, fields: []jobspec.FieldError{{Field: "scope", Message: why}}}
	}
	row, key, err := access.CreateKey(ctx, tx, req.Name, req.Scope, req.Labels)
	if err != nil {
		return nil, err
	}
	return &apiKeyResponse{ID: row.ID, Name: row.Name, Prefix: row.Prefix, Scope: access.Scope(row.Scope),
		Labels: labelsOf(row.Labels), CreatedAt: row.CreatedAt, Key: key}, nil
}

// labelsOf decodes a label limit; nil for none.
func labelsOf(raw []byte) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	var l map[string]string
	if json.Unmarshal(raw, &l) != nil || len(l) == 0 {
		return nil
	}
	return l
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
		out.Data[i] = &apiKeyResponse{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scope: access.Scope(k.Scope),
			Labels: labelsOf(k.Labels), CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
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
