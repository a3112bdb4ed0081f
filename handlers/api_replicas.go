package handlers

import (
	"context"
	"time"

	"github.com/herald-sched/herald/internal/store"
)

// maxReplicasListed bounds GET /v1/replicas: live replicas come first, then
// the ones that ended in the last 24 hours, newest first.
const maxReplicasListed = 500

// Replica states as the API shows them: a registration still marked alive
// whose heartbeat is older than its timeout is "silent" (a survivor is about
// to declare it dead).
const (
	replicaAlive  = "alive"
	replicaSilent = "silent"
)

// replicaResponse is one herald process's registration.
type replicaResponse struct {
	ID              string     `json:"id"`
	Role            string     `json:"role"`
	Host            string     `json:"host"`
	PID             int32      `json:"pid"`
	Version         string     `json:"version"`
	State           string     `json:"state"`
	StartedAt       time.Time  `json:"started_at"`
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at"`
	SilentFor       float64    `json:"silent_seconds"`
	Timeout         string     `json:"timeout"`
	Working         int32      `json:"working"`
	InFlight        int32      `json:"in_flight"`
	ClockOffsetMs   *float64   `json:"clock_offset_ms"`
	EndedAt         *time.Time `json:"ended_at"`
	ReclaimedBy     *string    `json:"reclaimed_by"`
	Reclaimed       int32      `json:"reclaimed"`
}

type listReplicasResponse struct {
	Data []*replicaResponse `json:"data"`
}

// listReplicas lists the herald processes registered in the database.
func (a *API) listReplicas(ctx context.Context, _ *struct{}) (*listReplicasResponse, error) {
	rows, err := store.New(a.pool).ListReplicas(ctx, maxReplicasListed)
	if err != nil {
		return nil, err
	}
	out := &listReplicasResponse{Data: make([]*replicaResponse, len(rows))}
	for i := range rows {
		out.Data[i] = toReplicaResponse(&rows[i])
	}
	return out, nil
}

func toReplicaResponse(r *store.ListReplicasRow) *replicaResponse {
	timeout := time.Duration(r.TimeoutMs) * time.Millisecond
	resp := &replicaResponse{
		ID: r.ID, Role: r.Role, Host: r.Host, PID: r.Pid, Version: r.Version, State: r.State,
		StartedAt: r.StartedAt, Timeout: timeout.String(), Working: r.Working, InFlight: r.InFlight,
		ClockOffsetMs: r.ClockOffsetMs, EndedAt: r.EndedAt, ReclaimedBy: r.ReclaimedBy, Reclaimed: r.Reclaimed,
	}
	if r.HeartbeatAt.Unix() > 0 { // the epoch marks a process known to be gone
		hb := r.HeartbeatAt
		resp.LastHeartbeatAt = &hb
		if r.State == replicaAlive {
			silent := r.DbNow.Sub(hb)
			resp.SilentFor = max(0, silent.Seconds())
			if silent > timeout {
				resp.State = replicaSilent
			}
		}
	} else if r.State == replicaAlive {
		resp.State = replicaSilent
	}
	return resp
}
