package access

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
)

// DefaultAuditRetention is how long audit rows are kept
// (--audit-retention).
const DefaultAuditRetention = 90 * 24 * time.Hour

// Entry is one API write, as the audit log keeps it.
type Entry struct {
	// Principal made the write.
	Principal *Principal
	// Action is the method and the route: "POST /v1/jobs/{jobID}/pause".
	Action string
	// ObjectID is the job, run, key or device the write is about, when
	// known.
	ObjectID string
	// Status is the HTTP status answered.
	Status int
	// Detail is a refusal's public detail.
	Detail string
	// RequestID is the request's id (X-Request-Id).
	RequestID string
}

// Audit records e in db: the write's transaction for a write that
// commits, its own for one refused.
func Audit(ctx context.Context, db store.DBTX, e *Entry) error {
	p := store.RecordAuditParams{
		ID: uuid.Must(uuid.NewV7()), Principal: e.Principal.Name, KeyID: e.Principal.KeyID,
		Action: e.Action, Status: int32(e.Status), RequestID: e.RequestID,
	}
	if e.ObjectID != "" {
		p.ObjectID = &e.ObjectID
	}
	if e.Detail != "" {
		p.Detail = &e.Detail
	}
	if err := store.New(db).RecordAudit(ctx, p); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditMany records entries in db with one statement, as Audit does each.
func AuditMany(ctx context.Context, db store.DBTX, entries []*Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var p store.RecordAuditsParams
	for _, e := range entries {
		key := uuid.Nil
		if e.Principal.KeyID != nil {
			key = *e.Principal.KeyID
		}
		p.Ids = append(p.Ids, uuid.Must(uuid.NewV7()))
		p.Principals = append(p.Principals, e.Principal.Name)
		p.KeyIds = append(p.KeyIds, key)
		p.Actions = append(p.Actions, e.Action)
		p.ObjectIds = append(p.ObjectIds, e.ObjectID)
		p.Statuses = append(p.Statuses, int32(e.Status))
		p.Details = append(p.Details, e.Detail)
		p.RequestIds = append(p.RequestIds, e.RequestID)
	}
	if err := store.New(db).RecordAudits(ctx, p); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditRetention deletes audit rows older than Keep, a thousand at a time:
// a replica.Sweeper, run after the heartbeats of worker replicas.
type AuditRetention struct {
	// Pool is the database.
	Pool *pgxpool.Pool
	// Keep is how long rows are kept. Default DefaultAuditRetention.
	Keep time.Duration
}

// Sweep implements replica.Sweeper; the age of a row needs no judgement of
// liveness, so healthy is not looked at.
func (s *AuditRetention) Sweep(ctx context.Context, _ time.Duration) error {
	keep := s.Keep
	if keep == 0 {
		keep = DefaultAuditRetention
	}
	for range 10 { // at most 10,000 rows a heartbeat
		n, err := store.New(s.Pool).ForgetAudit(ctx, keep.Seconds())
		if err != nil || n < 1000 {
			return err
		}
	}
	return nil
}
