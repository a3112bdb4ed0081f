package device

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/batch"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// MaxQueueDepth bounds a heartbeat's queue depth.
const MaxQueueDepth = 1_000_000

// Heartbeat is what a device reports: POST /v1/devices/{id}/heartbeat.
type Heartbeat struct {
	// CPU is the device's processor load, 0 to 1.
	CPU *float64 `json:"cpu"`
	// Memory is the device's memory use, 0 to 1.
	Memory *float64 `json:"memory"`
	// QueueDepth is the work of its own the device has waiting.
	QueueDepth *int `json:"queue_depth"`
	// Timezone, when given, is the device's IANA time zone now (a vehicle
	// crosses zones).
	Timezone string `json:"timezone,omitempty"`
}

// Validate refuses values out of range, naming the field.
func (h *Heartbeat) Validate() error {
	var errs jobspec.Errors
	add := func(field, msg string) { errs = append(errs, jobspec.FieldError{Field: field, Message: msg}) }
	ratio := func(field string, v *float64) {
		switch {
		case v == nil:
			add(field, "required, between 0 and 1")
		case !(*v >= 0 && *v <= 1): // NaN too
			add(field, "between 0 and 1")
		}
	}
	ratio("cpu", h.CPU)
	ratio("memory", h.Memory)
	switch {
	case h.QueueDepth == nil:
		add("queue_depth", "required, 0 or more")
	case *h.QueueDepth < 0 || *h.QueueDepth > MaxQueueDepth:
		add("queue_depth", fmt.Sprintf("between 0 and %d", MaxQueueDepth))
	}
	if h.Timezone != "" {
		if err := checkZone(h.Timezone); err != nil {
			add("timezone", err.Error())
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// beat is one heartbeat to write.
type beat struct {
	id uuid.UUID
	hb Heartbeat
}

// Heartbeats writes devices' heartbeats in batches: concurrent heartbeats
// share one UPDATE (group commit, no timer), so their cost grows with the
// rate of batches, not of heartbeats. One batch is written at a time; a
// second starts beside it once it has taken batch.DefaultSpill, so that a
// heartbeat arriving during a batch slowed by the deliveries' load waits
// for it 5 ms at most.
type Heartbeats struct {
	batcher *batch.Batcher[beat, struct{}]
}

// heartbeatBatch bounds one statement's heartbeats.
const heartbeatBatch = 1000

// NewHeartbeats returns the writer; Start runs it.
func NewHeartbeats(pool *pgxpool.Pool) *Heartbeats {
	return &Heartbeats{batcher: batch.New(heartbeatBatch, 2, func(ctx context.Context, beats []beat) ([]struct{}, error) {
		return make([]struct{}, len(beats)), writeBeats(ctx, pool, beats)
	}).SpillAfter(batch.DefaultSpill)}
}

// Start runs the writer until ctx ends.
func (h *Heartbeats) Start(ctx context.Context) { h.batcher.Start(ctx) }

// Record writes device id's heartbeat, with the others waiting, and
// returns once it is stored.
func (h *Heartbeats) Record(ctx context.Context, id uuid.UUID, hb Heartbeat) error {
	_, err := h.batcher.Submit(ctx, beat{id: id, hb: hb})
	return err
}

func writeBeats(ctx context.Context, pool *pgxpool.Pool, beats []beat) error {
	// The last heartbeat of a device in the batch wins.
	last := make(map[uuid.UUID]int, len(beats))
	for i, b := range beats {
		last[b.id] = i
	}
	var p store.RecordHeartbeatsParams
	zoned := false
	for i, b := range beats {
		if last[b.id] != i {
			continue
		}
		p.Ids = append(p.Ids, b.id)
		p.Cpus = append(p.Cpus, *b.hb.CPU)
		p.Memories = append(p.Memories, *b.hb.Memory)
		p.QueueDepths = append(p.QueueDepths, int32(*b.hb.QueueDepth))
		p.Timezones = append(p.Timezones, b.hb.Timezone)
		zoned = zoned || b.hb.Timezone != ""
	}
	if zoned {
		// A zone may have changed: the device-local jobs are planned
		// again in the same statement when one did.
		return store.New(pool).RecordHeartbeatsMoved(ctx, store.RecordHeartbeatsMovedParams(p))
	}
	return store.New(pool).RecordHeartbeats(ctx, p)
}
