package main

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// heartbeatPeriod is how often each device heartbeats when paced: the
	// issue's load, 10,000 devices every 5 s being 2,000 heartbeats/s.
	heartbeatPeriod = 5 * time.Second
	// heartbeatClients is how many heartbeats are sent at once at most;
	// each client sends the heartbeats of its share of the devices.
	heartbeatClients = 64
)

// heartbeatSample is one heartbeat answered 204.
type heartbeatSample struct {
	end     time.Time
	latency time.Duration
}

// heartbeater sends the heartbeats of devices, each with its own token,
// from up to heartbeatClients goroutines: paced (each device every
// heartbeatPeriod, the devices' turns spread evenly over the period) or
// flat out (each goroutine sends its devices' heartbeats back to back).
type heartbeater struct {
	client *deviceClient
	devs   []benchDevice
	bodies [][]byte
	// refused counts answers 503 (the database away): not stored.
	refused atomic.Int64

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	err      error
	samples  [][]heartbeatSample // per goroutine
}

// newHeartbeater returns a heartbeater of devs; it sends nothing yet.
func newHeartbeater(client *deviceClient, devs []benchDevice) *heartbeater {
	h := &heartbeater{client: client, devs: devs, bodies: make([][]byte, len(devs))}
	for i := range devs {
		h.bodies[i] = heartbeatBody(i, len(devs))
	}
	return h
}

// clients is how many goroutines send: one per device up to heartbeatClients.
func (h *heartbeater) clients() int { return min(heartbeatClients, len(h.devs)) }

// Start sends heartbeats until Stop, paced or flat out.
func (h *heartbeater) Start(ctx context.Context, paced bool) {
	k := h.clients()
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	h.samples = make([][]heartbeatSample, k)
	begin := time.Now()
	go func() {
		defer close(h.done)
		h.err = parallel(ctx, k, func(ctx context.Context, w int) error {
			// Goroutine w sends the heartbeats of devices w, w+k, w+2k, ...
			for round := 0; ; round++ {
				for i := w; i < len(h.devs); i += k {
					if paced {
						due := begin.Add(time.Duration(round)*heartbeatPeriod + heartbeatPeriod*time.Duration(i)/time.Duration(len(h.devs)))
						if !h.sleepUntil(ctx, due) {
							return nil
						}
					} else if h.stopped() {
						return nil
					}
					if err := h.send(ctx, w, i); err != nil {
						return err
					}
				}
			}
		})
	}()
}

// send sends device i's heartbeat and records it.
func (h *heartbeater) send(ctx context.Context, w, i int) error {
	t0 := time.Now()
	status, err := h.client.Heartbeat(ctx, h.devs[i], h.bodies[i])
	if err != nil {
		return err
	}
	end := time.Now()
	if status != http.StatusNoContent {
		h.refused.Add(1)
		return nil
	}
	h.samples[w] = append(h.samples[w], heartbeatSample{end: end, latency: end.Sub(t0)})
	return nil
}

// sleepUntil waits until t; false when the heartbeater was stopped first.
func (h *heartbeater) sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-h.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// stopped reports whether Stop was called.
func (h *heartbeater) stopped() bool {
	select {
	case <-h.stop:
		return true
	default:
		return false
	}
}

// Stop lets the heartbeats in flight finish and returns the first error.
func (h *heartbeater) Stop() error {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.done
	if errors.Is(h.err, context.Canceled) {
		return nil
	}
	return h.err
}

// Window returns how many heartbeats were answered within [from, to), and
// their latencies, sorted. Call it after Stop.
func (h *heartbeater) Window(from, to time.Time) (int64, latencies) {
	var lat latencies
	for _, samples := range h.samples {
		for _, s := range samples {
			if !s.end.Before(from) && s.end.Before(to) {
				lat = append(lat, s.latency)
			}
		}
	}
	return int64(len(lat)), lat.sorted()
}
