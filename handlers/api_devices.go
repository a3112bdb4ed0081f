package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/device"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// Device states as the API shows them.
const (
	deviceOnline    = "online"
	deviceOffline   = "offline"
	deviceNeverSeen = "never_seen"
)

// deviceResponse is a device as the API shows it; Token only when created.
type deviceResponse struct {
	ID     uuid.UUID         `json:"id"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	// URL is the push base URL, null for a device in pull mode.
	URL  *string `json:"url"`
	Mode string  `json:"mode"`
	// Capacity is how many deliveries the device takes at once.
	Capacity int32  `json:"capacity"`
	Timezone string `json:"timezone"`
	// State is online (a heartbeat within the device timeout), offline, or
	// never_seen (no heartbeat yet).
	State           string     `json:"state"`
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at"`
	OfflineSince    *time.Time `json:"offline_since"`
	CPU             *float64   `json:"cpu"`
	Memory          *float64   `json:"memory"`
	QueueDepth      *int32     `json:"queue_depth"`
	TokenPrefix     string     `json:"token_prefix"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	// Token reaches only this device's endpoints; shown only when created.
	Token string `json:"token,omitempty"`
}

func (d *deviceResponse) location() string { return "/v1/devices/" + d.ID.String() }

func (a *API) toDeviceResponse(d *store.Device) (*deviceResponse, error) {
	out := &deviceResponse{
		ID: d.ID, Name: d.Name, URL: d.Url, Mode: "push", Capacity: d.Capacity, Timezone: d.Timezone,
		LastHeartbeatAt: d.LastHeartbeatAt, OfflineSince: d.OfflineSince,
		CPU: d.Cpu, Memory: d.Memory, QueueDepth: d.QueueDepth, TokenPrefix: d.TokenPrefix,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Labels: map[string]string{},
	}
	if d.Url == nil {
		out.Mode = "pull"
	}
	switch {
	case d.LastHeartbeatAt == nil:
		out.State = deviceNeverSeen
	case d.Online && a.now().Sub(*d.LastHeartbeatAt) <= a.deviceTimeout:
		out.State = deviceOnline
	default:
		out.State = deviceOffline
	}
	if err := json.Unmarshal(d.Labels, &out.Labels); err != nil {
		return nil, err
	}
	return out, nil
}

type deviceRequest struct {
	id   uuid.UUID
	spec device.Spec
}

func (a *API) parseDevice(w http.ResponseWriter, r *http.Request, req *deviceRequest) error {
	if s := chi.URLParam(r, "deviceID"); s != "" {
		id, err := parseUUID(s, "device")
		if err != nil {
			return err
		}
		req.id = id
	}
	if err := decodeJSON(w, r, 64<<10, &req.spec); err != nil {
		return err
	}
	return validationProblem(req.spec.Validate(a.checkURL))
}

// validationProblem maps a definition's field errors to 422.
func validationProblem(err error) error {
	var fe jobspec.Errors
	if errors.As(err, &fe) {
		return invalidFields(http.StatusUnprocessableEntity, fe...)
	}
	return err
}

// createDevice registers a device; the response carries its token.
func (a *API) createDevice(ctx context.Context, tx pgx.Tx, req *deviceRequest) (*deviceResponse, error) {
	d, token, err := a.devices.Create(ctx, tx, &req.spec)
	if err != nil {
		return nil, validationProblem(err)
	}
	resp, err := a.toDeviceResponse(d)
	if err != nil {
		return nil, err
	}
	resp.Token = token
	return resp, nil
}

// updateDevice replaces a device's definition; its token and liveness stay.
func (a *API) updateDevice(ctx context.Context, tx pgx.Tx, req *deviceRequest) (*deviceResponse, error) {
	d, err := a.devices.Update(ctx, tx, req.id, &req.spec)
	if err != nil {
		return nil, deviceNotFound(validationProblem(err), req.id)
	}
	return a.toDeviceResponse(d)
}

type deviceIDRequest struct {
	id uuid.UUID
}

func parseDeviceID(_ http.ResponseWriter, r *http.Request, req *deviceIDRequest) error {
	id, err := parseUUID(chi.URLParam(r, "deviceID"), "device")
	req.id = id
	return err
}

func (a *API) getDevice(ctx context.Context, req *deviceIDRequest) (*deviceResponse, error) {
	d, err := a.devices.Get(ctx, req.id)
	if err != nil {
		return nil, deviceNotFound(err, req.id)
	}
	return a.toDeviceResponse(d)
}

// deleteDevice removes a device: its token stops working.
func (a *API) deleteDevice(ctx context.Context, tx pgx.Tx, req *deviceIDRequest) (*struct{}, error) {
	return nil, deviceNotFound(a.devices.Delete(ctx, tx, req.id), req.id)
}

func deviceNotFound(err error, id uuid.UUID) error {
	if errors.Is(err, device.ErrNotFound) {
		return notFound("device " + id.String())
	}
	return err
}

type listDevicesRequest struct {
	page   pageRequest
	labels map[string]string
}

type listDevicesResponse struct {
	Data       []*deviceResponse `json:"data"`
	NextCursor *string           `json:"next_cursor"`
}

func parseListDevices(_ http.ResponseWriter, r *http.Request, req *listDevicesRequest) error {
	if err := req.page.parse(r); err != nil {
		return err
	}
	labels, err := parseLabelFilter(r)
	req.labels = labels
	return err
}

// parseLabelFilter reads the repeatable label=key=value filter.
func parseLabelFilter(r *http.Request) (map[string]string, error) {
	var out map[string]string
	for _, l := range r.URL.Query()["label"] {
		if l == "" {
			continue // an empty field of a filter form
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, invalidFields(http.StatusBadRequest, fieldError("label", "must be key=value, got "+strconv.Quote(l)))
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out, nil
}

func (a *API) listDevices(ctx context.Context, req *listDevicesRequest) (*listDevicesResponse, error) {
	rows, err := a.devices.List(ctx, req.labels, req.page.cursor, req.page.limit+1)
	if err != nil {
		return nil, err
	}
	out := &listDevicesResponse{Data: make([]*deviceResponse, 0, len(rows))}
	for i := range rows {
		if i == req.page.limit {
			out.NextCursor = new(rows[i-1].ID.String())
			break
		}
		d, err := a.toDeviceResponse(&rows[i])
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, d)
	}
	return out, nil
}

type heartbeatRequest struct {
	id uuid.UUID
	hb device.Heartbeat
}

func (a *API) parseHeartbeat(w http.ResponseWriter, r *http.Request, req *heartbeatRequest) error {
	id, ok := deviceOf(r.Context())
	if !ok {
		return errors.New("heartbeat without an authenticated device")
	}
	req.id = id
	if err := decodeJSON(w, r, 4<<10, &req.hb); err != nil {
		return err
	}
	return validationProblem(req.hb.Validate())
}

// heartbeat records a device's heartbeat (batched with the others).
func (a *API) heartbeat(ctx context.Context, req *heartbeatRequest) (*struct{}, error) {
	return nil, a.heartbeats.Record(ctx, req.id, req.hb)
}
