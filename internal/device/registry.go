package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
)

// ErrNotFound is returned for an unknown device.
var ErrNotFound = errors.New("device not found")

// ErrForbidden is returned when a token is not the device's own: the
// caller learns nothing more about the device.
var ErrForbidden = errors.New("this token does not belong to this device")

// tokenTTL is how long a process trusts a token it looked up: a deleted
// device's token stops working within it.
const tokenTTL = 10 * time.Second

// Registry creates, reads, changes and deletes devices, and authenticates
// their tokens.
type Registry struct {
	pool     *pgxpool.Pool
	checkURL func(string) error

	mu     sync.Mutex
	tokens map[string]cachedToken // by SHA-256
}

type cachedToken struct {
	id   uuid.UUID
	read time.Time
}

// NewRegistry returns the registry; checkURL checks push URLs as task URLs
// are checked (scheme, SSRF guard).
func NewRegistry(pool *pgxpool.Pool, checkURL func(string) error) *Registry {
	return &Registry{pool: pool, checkURL: checkURL}
}

// Create registers a device and returns it with its token, which is shown
// this once.
func (r *Registry) Create(ctx context.Context, db store.DBTX, s *Spec) (*store.Device, string, error) {
	if err := s.Validate(r.checkURL); err != nil {
		return nil, "", err
	}
	labels, err := json.Marshal(labelsOrEmpty(s.Labels))
	if err != nil {
		return nil, "", err
	}
	token, hash, prefix := newToken()
	d, err := store.New(db).CreateDevice(ctx, store.CreateDeviceParams{
		ID: uuid.Must(uuid.NewV7()), Name: s.Name, Labels: labels, Url: urlOrNil(s.URL),
		Capacity: int32(*s.Capacity), Timezone: s.Timezone, TokenHash: hash, TokenPrefix: prefix,
	})
	if err != nil {
		return nil, "", fmt.Errorf("create device: %w", err)
	}
	if err := store.New(db).NudgeDeviceLocalJobs(ctx); err != nil {
		return nil, "", fmt.Errorf("plan device-local jobs: %w", err)
	}
	return &d, token, nil
}

// Get reads a device.
func (r *Registry) Get(ctx context.Context, id uuid.UUID) (*store.Device, error) {
	d, err := store.New(r.pool).GetDevice(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read device: %w", err)
	}
	return &d, nil
}

// List reads up to limit devices older than before (nil: the newest),
// newest first, carrying every label of labels.
func (r *Registry) List(ctx context.Context, labels map[string]string, before *uuid.UUID, limit int) ([]store.Device, error) {
	want, err := json.Marshal(labelsOrEmpty(labels))
	if err != nil {
		return nil, err
	}
	rows, err := store.New(r.pool).ListDevices(ctx, store.ListDevicesParams{Before: before, Labels: want, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return rows, nil
}

// Update replaces a device's definition; its token, liveness and load are
// kept.
func (r *Registry) Update(ctx context.Context, db store.DBTX, id uuid.UUID, s *Spec) (*store.Device, error) {
	if err := s.Validate(r.checkURL); err != nil {
		return nil, err
	}
	labels, err := json.Marshal(labelsOrEmpty(s.Labels))
	if err != nil {
		return nil, err
	}
	d, err := store.New(db).UpdateDevice(ctx, store.UpdateDeviceParams{
		ID: id, Name: s.Name, Labels: labels, Url: urlOrNil(s.URL), Capacity: int32(*s.Capacity), Timezone: s.Timezone,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("update device: %w", err)
	}
	if err := store.New(db).NudgeDeviceLocalJobs(ctx); err != nil {
		return nil, fmt.Errorf("plan device-local jobs: %w", err)
	}
	return &d, nil
}

// Delete removes a device; its token stops working (within tokenTTL on
// processes that used it), and its tasks in flight are placed again.
func (r *Registry) Delete(ctx context.Context, db store.DBTX, id uuid.UUID) error {
	n, err := store.New(db).DeleteDevice(ctx, id)
	if err != nil {
		return fmt.Errorf("delete device: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	if err := notifyGone(ctx, db, []uuid.UUID{id}); err != nil {
		return err
	}
	r.mu.Lock()
	for h, t := range r.tokens {
		if t.id == id {
			delete(r.tokens, h)
		}
	}
	r.mu.Unlock()
	return nil
}

// Authenticate checks that token is device id's own. Tokens are looked up
// by their SHA-256 (an indexed lookup, then cached for tokenTTL): a token of
// another device, or of none, is ErrForbidden either way.
func (r *Registry) Authenticate(ctx context.Context, id uuid.UUID, token string) error {
	hash := string(HashToken(token))
	r.mu.Lock()
	t, ok := r.tokens[hash]
	r.mu.Unlock()
	if !ok || time.Since(t.read) > tokenTTL {
		owner, err := store.New(r.pool).DeviceByTokenHash(ctx, []byte(hash))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrForbidden
		}
		if err != nil {
			return fmt.Errorf("look up device token: %w", err)
		}
		t = cachedToken{id: owner, read: time.Now()}
		r.mu.Lock()
		if r.tokens == nil || len(r.tokens) > 100_000 {
			r.tokens = make(map[string]cachedToken)
		}
		r.tokens[hash] = t
		r.mu.Unlock()
	}
	if t.id != id {
		return ErrForbidden
	}
	return nil
}

func labelsOrEmpty(l map[string]string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return l
}

func urlOrNil(u string) *string {
	if u == "" {
		return nil
	}
	return &u
}
