package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/store"
)

// auditEntryResponse is one audit row.
type auditEntryResponse struct {
	ID        uuid.UUID  `json:"id"`
	At        time.Time  `json:"at"`
	Principal string     `json:"principal"`
	KeyID     *uuid.UUID `json:"key_id"`
	Action    string     `json:"action"`
	ObjectID  *string    `json:"object_id"`
	Status    int32      `json:"status"`
	Detail    *string    `json:"detail"`
	RequestID string     `json:"request_id"`
}

type listAuditResponse struct {
	Data       []*auditEntryResponse `json:"data"`
	NextCursor *string               `json:"next_cursor"`
}

type listAuditRequest struct {
	page       pageRequest
	principal  *string
	objectID   *string
	action     *string
	from, to   *time.Time
	failedOnly bool
}

func parseListAudit(_ http.ResponseWriter, r *http.Request, req *listAuditRequest) error {
	if err := req.page.parse(r); err != nil {
		return err
	}
	q := r.URL.Query()
	for name, dst := range map[string]**string{"principal": &req.principal, "object_id": &req.objectID, "action": &req.action} {
		if v := q.Get(name); v != "" {
			if len(v) > 300 {
				return invalidFields(http.StatusBadRequest, fieldError(name, "at most 300 bytes"))
			}
			*dst = &v
		}
	}
	for name, dst := range map[string]**time.Time{"from": &req.from, "to": &req.to} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return invalidFields(http.StatusBadRequest, fieldError(name, "must be an RFC 3339 time"))
			}
			*dst = &t
		}
	}
	switch v := q.Get("failed"); v {
	case "", "false":
	case "true":
		req.failedOnly = true
	default:
		return invalidFields(http.StatusBadRequest, fieldError("failed", "must be true or false"))
	}
	return nil
}

// listAudit lists the audit log, newest first.
func (a *API) listAudit(ctx context.Context, req *listAuditRequest) (*listAuditResponse, error) {
	rows, err := store.New(a.pool).ListAudit(ctx, store.ListAuditParams{
		Before: req.page.cursor, Principal: req.principal, ObjectID: req.objectID, Action: req.action,
		From: req.from, To: req.to, FailedOnly: req.failedOnly, MaxRows: int32(req.page.limit + 1),
	})
	if err != nil {
		return nil, err
	}
	out := &listAuditResponse{Data: make([]*auditEntryResponse, 0, len(rows))}
	for i, e := range rows {
		if i == req.page.limit {
			out.NextCursor = new(rows[i-1].ID.String())
			break
		}
		out.Data = append(out.Data, &auditEntryResponse{
			ID: e.ID, At: e.At, Principal: e.Principal, KeyID: e.KeyID, Action: e.Action,
			ObjectID: e.ObjectID, Status: e.Status, Detail: e.Detail, RequestID: e.RequestID,
		})
	}
	return out, nil
}
