package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/notify"
	"github.com/herald-sched/herald/internal/store"
)

// pullRecheck is how often a worker waiting for a pull-mode device looks at
// its offer without being woken (a lost notification costs this much).
const pullRecheck = 2 * time.Second

// pullBase stands for a pull-mode device's URL while its request is built:
// only the path and query are given to the device.
const pullBase = "https://pull.device.invalid"

// errDeviceLeft is a device that went offline with a task in flight (a
// pushed request not yet answered, a pulled task not yet reported): the task
// is placed again, without an attempt used.
var errDeviceLeft = errors.New("the device went offline with the task in flight")

// pull makes an attempt of req on a pull-mode device: it offers the request
// (the device's long-poll takes it, signed then), and waits for the
// device's result as a push waits for an answer, until the lease's deadline
// (the device took it plus the request's timeout). The offer is withdrawn
// when the wait ends, however it ends.
func (w *DeliverWorker) pull(ctx context.Context, dev *placed, tr *store.BeginAttemptsRow, attempt int, req *dispatch.Request) (dispatch.Result, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return dispatch.Result{}, err
	}
	headers := req.Header.Clone()
	delete(headers, "Webhook-Timestamp")
	delete(headers, "Webhook-Signature")
	hjson, err := json.Marshal(headers)
	if err != nil {
		return dispatch.Result{}, err
	}
	lease := uuid.Must(uuid.NewV7())
	wake, stop := w.hub.Wait(notify.DeviceResults, lease.String())
	defer stop()
	q := store.New(w.pool)
	if err := q.OfferDeviceTask(ctx, store.OfferDeviceTaskParams{
		LeaseID: lease, DeviceID: dev.device, TaskRunID: tr.ID, Attempt: int32(attempt), Holder: w.holder,
		Method: req.Method, Path: u.RequestURI(), Headers: hjson, Body: req.Body,
		TimeoutMs: int32(req.Timeout.Milliseconds()),
	}); err != nil {
		return dispatch.Result{}, fmt.Errorf("offer the task to the device: %w", err)
	}
	defer func() { _ = q.WithdrawDeviceTask(context.WithoutCancel(ctx), lease) }()

	recheck := time.NewTicker(pullRecheck)
	defer recheck.Stop()
	var deadline <-chan time.Time
	for {
		row, err := q.ReadDeviceTask(ctx, lease)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return dispatch.Result{}, fmt.Errorf("read the offer: %w", err)
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return dispatch.Result{}, errDeviceLeft // withdrawn: the device was declared offline
		case row.State == "reported":
			return pulledResult(row), nil
		case row.State == "taken" && row.Deadline != nil:
			if !w.now().Before(*row.Deadline) {
				return dispatch.Result{Outcome: dispatch.Retryable, Duration: req.Timeout,
					Err: fmt.Errorf("%w: the device took the task but reported no result within %s", context.DeadlineExceeded, req.Timeout)}, nil
			}
			if deadline == nil {
				deadline = time.After(row.Deadline.Sub(w.now()) + 10*time.Millisecond)
			}
		case row.State == "offered" && !w.fleet.Online(dev.device):
			return dispatch.Result{}, errDeviceLeft
		}
		select {
		case <-wake:
		case <-recheck.C:
		case <-deadline:
		case <-ctx.Done():
			if deviceLeft(ctx) {
				return dispatch.Result{}, errDeviceLeft
			}
			return dispatch.Result{}, ctx.Err()
		}
	}
}

// pulledResult is a pull-mode device's reported result as a response.
func pulledResult(row store.ReadDeviceTaskRow) dispatch.Result {
	status := int(*row.ResultStatus)
	res := dispatch.Result{Outcome: dispatch.Classify(status), StatusCode: status, Body: row.ResultBody}
	if row.TakenAt != nil && row.ReportedAt != nil {
		res.Duration = row.ReportedAt.Sub(*row.TakenAt)
	}
	if len(res.Body) > MaxResultBytes {
		res.Body, res.Truncated = res.Body[:MaxResultBytes], true
	}
	return res
}
