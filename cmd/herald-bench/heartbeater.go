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
	// heartbeatClients is how many goroutines keep the devices' paced
	// turns, and how many heartbeats are sent at once flat out.
	heartbeatClients = 64
	// heartbeatConns is how many keep-alive connections the heartbeat
	// scenario's client keeps: the paced heartbeats in flight at once,
	// about the rate times the latency (150 at 2,000/s and 75 ms), each
	// on a connection of its own as separate devices would be, without
	// a new connection per heartbeat.
	heartbeatConns = 1024
)

// heartbeatSample is one heartbeat answered 204.
type heartbeatSample struct {
	end     time.Time
	latency time.Duration
}

// heartbeater sends the heartbeats of devices, each with its own token:
// paced (each device every heartbeatPeriod, the devices' turns spread
// evenly over the period, an open load) or flat out (heartbeatClients
// goroutines, each sending its devices' heartbeats back to back).
type heartbeater struct {
	client *deviceClient
	devs   []benchDevice
	bodies [][]byte
	// refused counts answers 503 (the database away): not stored.
	refused atomic.Int64
	// skipped counts paced turns a device let pass because its previous
	// heartbeat was still unanswered.
	skipped atomic.Int64
	// inFlight is, per device, whether a paced heartbeat of it is unanswered.
	inFlight []atomic.Bool

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	err      error
	samples  [][]heartbeatSample // per scheduling goroutine
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
//
// Paced, the load is open: each device sends its heartbeat at its turn
// whether or not the other devices' heartbeats have been answered, as a
// fleet of independent devices does. Goroutine w keeps the turns of devices
// w, w+k, w+2k, ... and sends each in a goroutine of its own; a device
// whose previous heartbeat is still unanswered at its turn skips it (one
// heartbeat in flight per device), counted in skipped. (Until 2026-12-02
// the paced load was closed: each of the k goroutines sent its devices'
// heartbeats one after the other, so that a heartbeat answered in more than
// k/rate, 32 ms at 2,000/s, held back the next devices' turns and the rate
// offered fell with the latency.)
//
// Flat out, each of the k goroutines sends its devices' heartbeats back to
// back: the most k clients get through.
func (h *heartbeater) Start(ctx context.Context, paced bool) {
	k := h.clients()
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	h.samples = make([][]heartbeatSample, k)
	h.inFlight = make([]atomic.Bool, len(h.devs))
	begin := time.Now()
	go func() {
		defer close(h.done)
		var sends sync.WaitGroup
		h.err = parallel(ctx, k, func(ctx context.Context, w int) error {
			var (
				mu      sync.Mutex // guards h.samples[w] and failed
				failed  error
				samples = &h.samples[w]
			)
			record := func(s heartbeatSample, ok bool, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil && failed == nil {
					failed = err
				}
				if ok {
					*samples = append(*samples, s)
				}
			}
			firstErr := func() error {
				mu.Lock()
				defer mu.Unlock()
				return failed
			}
			for round := 0; ; round++ {
				for i := w; i < len(h.devs); i += k {
					if !paced {
						if h.stopped() {
							return nil
						}
						s, ok, err := h.send(ctx, i)
						record(s, ok, err)
						if err != nil {
							return err
						}
						continue
					}
					due := begin.Add(time.Duration(round)*heartbeatPeriod + heartbeatPeriod*time.Duration(i)/time.Duration(len(h.devs)))
					if !h.sleepUntil(ctx, due) {
						return nil
					}
					if err := firstErr(); err != nil {
						return err
					}
					if !h.inFlight[i].CompareAndSwap(false, true) {
						h.skipped.Add(1)
						continue
					}
					sends.Go(func() {
						defer h.inFlight[i].Store(false)
						s, ok, err := h.send(ctx, i)
						record(s, ok, err)
					})
				}
			}
		})
		sends.Wait()
	}()
}

// send sends device i's heartbeat; ok when it was answered 204 (a 503, the
// database away, is counted in refused and not stored).
func (h *heartbeater) send(ctx context.Context, i int) (_ heartbeatSample, ok bool, _ error) {
	t0 := time.Now()
	status, err := h.client.Heartbeat(ctx, h.devs[i], h.bodies[i])
	if err != nil {
		return heartbeatSample{}, false, err
	}
	end := time.Now()
	if status != http.StatusNoContent {
		h.refused.Add(1)
		return heartbeatSample{}, false, nil
	}
	return heartbeatSample{end: end, latency: end.Sub(t0)}, true, nil
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
