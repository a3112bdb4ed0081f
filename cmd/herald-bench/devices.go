package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
)

// deviceLabel is the label every device the benchmark registers carries,
// with the scenario's name as its value: the pools select by it.
const deviceLabel = "bench"

// benchDevice is a device the benchmark registered, with its token.
type benchDevice struct {
	// ID is the device's id, Token its bearer token (shown once by herald).
	ID, Token string
}

// deviceBody is the body of POST /v1/devices, as much of it as the
// benchmark uses.
type deviceBody struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	// URL is the push base URL; empty registers a pull-mode device.
	URL      string `json:"url,omitempty"`
	Capacity int    `json:"capacity,omitempty"`
}

// CreateDevice registers a device (POST /v1/devices) and returns its id and
// token. A herald without devices (404) is a *notAvailableError.
func (c *apiClient) CreateDevice(ctx context.Context, body []byte) (benchDevice, error) {
	status, raw, err := c.Post(ctx, "/v1/devices", body)
	switch {
	case err != nil:
		return benchDevice{}, fmt.Errorf("POST /v1/devices: %w", err)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return benchDevice{}, notAvailable("herald has no device registry (POST /v1/devices answers %d)", status)
	case status != http.StatusCreated:
		return benchDevice{}, fmt.Errorf("POST /v1/devices: status %d: %s", status, problemDetail(raw))
	}
	var d benchDevice
	if err := json.Unmarshal(raw, &d); err != nil || d.ID == "" || d.Token == "" {
		return benchDevice{}, fmt.Errorf("POST /v1/devices: no id or token in the answer: %.200s", raw)
	}
	return d, nil
}

// registerDevices registers n devices through the API, registerWorkers at a
// time; body returns the i-th device's definition. The first is registered
// alone, so that a herald without devices says so once, before any load.
func registerDevices(ctx context.Context, api *apiClient, n int, body func(i int) deviceBody) ([]benchDevice, error) {
	devs := make([]benchDevice, n)
	if n == 0 {
		return devs, nil
	}
	var err error
	if devs[0], err = api.CreateDevice(ctx, mustJSON(body(0))); err != nil {
		return nil, err
	}
	var next atomic.Int64
	next.Store(1)
	err = parallel(ctx, registerWorkers, func(ctx context.Context, _ int) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return nil
			}
			d, err := api.CreateDevice(ctx, mustJSON(body(i)))
			if err != nil {
				return err
			}
			devs[i] = d
		}
	})
	return devs, err
}

// pushDevice is the i-th push-mode device of scenario: its base URL is a
// path of its own on the receiver, so that the receiver's record tells
// which device a delivery went to.
func pushDevice(scenario string, i int, rc *receiver) deviceBody {
	return deviceBody{
		Name:   scenario + "-" + strconv.Itoa(i),
		Labels: map[string]string{deviceLabel: scenario},
		URL:    rc.Base() + devicePathPrefix + strconv.Itoa(i),
	}
}

// pullDevice is the i-th pull-mode device of scenario: no URL.
func pullDevice(scenario string, i int) deviceBody {
	return deviceBody{Name: scenario + "-" + strconv.Itoa(i), Labels: map[string]string{deviceLabel: scenario}}
}

// devicePathPrefix starts the receiver path of a push-mode device's base URL.
const devicePathPrefix = "/d/"

// heartbeatBody is a device's heartbeat: a load that differs from device to
// device (the i-th of n) and stays the same for one device, so that
// load-aware placement has scores to rank.
func heartbeatBody(i, n int) []byte {
	load := 0.05 + 0.8*float64(i)/float64(max(n, 1))
	return mustJSON(map[string]any{"cpu": load, "memory": 0.3, "queue_depth": i % 7})
}
