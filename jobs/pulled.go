package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/signing"
	"github.com/herald-sched/herald/internal/store"
)

// The device's side of pull mode: taking an offered task, reporting its
// result. The worker's side is pull.go.

// ErrLeaseGone is a result for a lease that is not the device's, was never
// taken, or whose deadline passed (the task went back to herald).
var ErrLeaseGone = errors.New("no such lease taken by this device, or its deadline passed")

// PulledTask is what a pull-mode device gets: the request as herald would
// have pushed it, signed now.
type PulledTask struct {
	// LeaseID names the lease the result is reported under.
	LeaseID uuid.UUID
	// WebhookID is the task run's Standard Webhooks id, the same on every
	// attempt.
	WebhookID string
	// Deadline is when the lease ends: a result after it is refused, and the
	// attempt counts as timed out.
	Deadline time.Time
	// Method, Path, Header and Body are the request.
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// TakeDeviceTask gives device its oldest offered task, if any (nil
// otherwise), signed with the job's secrets at now.
func TakeDeviceTask(ctx context.Context, db store.DBTX, device uuid.UUID, now time.Time) (*PulledTask, error) {
	row, err := store.New(db).TakeDeviceTask(ctx, device)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("take a device task: %w", err)
	}
	var header http.Header
	if err := json.Unmarshal(row.Headers, &header); err != nil {
		return nil, fmt.Errorf("headers of lease %s: %w", row.LeaseID, err)
	}
	secrets := []string{row.Secret}
	if row.PreviousSecret != nil && row.PreviousSecretExpiresAt != nil && now.Before(*row.PreviousSecretExpiresAt) {
		secrets = append(secrets, *row.PreviousSecret)
	}
	signer, err := signing.NewSigner(secrets...)
	if err != nil {
		return nil, fmt.Errorf("signing secret: %w", err)
	}
	t := &PulledTask{
		LeaseID: row.LeaseID, WebhookID: WebhookID(row.TaskRunID), Deadline: row.Deadline,
		Method: row.Method, Path: row.Path, Header: header, Body: row.Body,
	}
	header["Webhook-Timestamp"] = []string{fmt.Sprint(now.Unix())}
	header["Webhook-Signature"] = []string{signer.Sign(t.WebhookID, now, t.Body)}
	return t, nil
}

// ReportDeviceTask records the result of a task device took under lease,
// waking the worker waiting for it; ErrLeaseGone when the lease is not the
// device's, not taken, or past its deadline.
func ReportDeviceTask(ctx context.Context, db store.DBTX, device, lease uuid.UUID, status int, body []byte) error {
	_, err := store.New(db).ReportDeviceTask(ctx, store.ReportDeviceTaskParams{LeaseID: lease, DeviceID: device, Status: new(int32(status)), Body: body})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrLeaseGone
	}
	if err != nil {
		return fmt.Errorf("report a device task: %w", err)
	}
	return nil
}
