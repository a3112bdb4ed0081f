package handlers

import (
	"context"
	"time"

	"github.com/herald-sched/herald/internal/store"
)

// endpointResponse is the health of one target host.
type endpointResponse struct {
	Host                string     `json:"host"`
	State               string     `json:"state"`
	ConsecutiveFailures int32      `json:"consecutive_failures"`
	TimesOpened         int64      `json:"times_opened"`
	LastError           *string    `json:"last_error"`
	OpenedAt            *time.Time `json:"opened_at"`
	NextProbeAt         *time.Time `json:"next_probe_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

type listEndpointsResponse struct {
	Data []*endpointResponse `json:"data"`
}

// listEndpoints shows every host herald has failed to reach, open circuits
// first.
func (a *API) listEndpoints(ctx context.Context, _ *struct{}) (*listEndpointsResponse, error) {
	rows, err := store.New(a.pool).ListEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	out := &listEndpointsResponse{Data: make([]*endpointResponse, len(rows))}
	for i, e := range rows {
		out.Data[i] = &endpointResponse{
			Host: e.Host, State: e.State, ConsecutiveFailures: e.ConsecutiveFailures, TimesOpened: e.TimesOpened,
			LastError: e.LastError, OpenedAt: e.OpenedAt, NextProbeAt: e.NextProbeAt, UpdatedAt: e.UpdatedAt,
		}
	}
	return out, nil
}
