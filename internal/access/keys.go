// Package access is who may call herald's API: API keys (stored as their
// SHA-256, shown once), created, listed, revoked and looked up here.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/store"
)

// KeyPrefix starts every API key herald issues.
const KeyPrefix = "hk_"

// ErrKeyNotFound is returned for an unknown key, or one already revoked.
var ErrKeyNotFound = errors.New("API key not found")

// CreateKey issues an API key named name, of scope s, limited to the jobs
// with labels (nil: every job) ("hk_" + 32 random base32 characters), and
// returns it with its record; only its SHA-256 is stored, so the key is
// shown this once. The caller checks that its own key may grant it
// (Principal.MayGrant).
func CreateKey(ctx context.Context, db store.DBTX, name string, s Scope, labels map[string]string) (*store.CreateAPIKeyRow, string, error) {
	key := KeyPrefix + strings.ToLower(rand.Text())
	var limit []byte
	if len(labels) > 0 {
		var err error
		if limit, err = json.Marshal(labels); err != nil {
			return nil, "", err
		}
	}
	row, err := store.New(db).CreateAPIKey(ctx, store.CreateAPIKeyParams{
		ID: uuid.Must(uuid.NewV7()), Name: name, Prefix: key[:len(KeyPrefix)+6], Hash: HashKey(key),
		Scope: string(s), Labels: limit,
	})
	if err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	return &row, key, nil
}

// ListKeys lists every key, newest first, revoked ones included.
func ListKeys(ctx context.Context, db store.DBTX) ([]store.ListAPIKeysRow, error) {
	rows, err := store.New(db).ListAPIKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return rows, nil
}

// RevokeKey revokes key id: requests with it are refused from the next
// one on. A key already revoked is ErrKeyNotFound.
func RevokeKey(ctx context.Context, db store.DBTX, id uuid.UUID) error {
	_, err := store.New(db).RevokeAPIKey(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrKeyNotFound
	}
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	return nil
}

// KeyByToken returns the principal of the live key token is, or
// ErrKeyNotFound. The lookup is by SHA-256, through a unique index: nothing
// is cached, so a revocation takes effect at once.
func KeyByToken(ctx context.Context, db store.DBTX, token string) (*Principal, error) {
	row, err := store.New(db).APIKeyByHash(ctx, HashKey(token))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrKeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up key: %w", err)
	}
	p := &Principal{Name: "key:" + row.ID.String(), KeyID: &row.ID, Scope: Scope(row.Scope)}
	if len(row.Labels) > 0 {
		if err := json.Unmarshal(row.Labels, &p.Labels); err != nil {
			return nil, fmt.Errorf("labels of key %s: %w", row.ID, err)
		}
	}
	return p, nil
}

// HashKey is the stored form of a key.
func HashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}
