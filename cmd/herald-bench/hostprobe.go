package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"syscall"
	"time"
)

// Host probe sizes: each measurement is repeated probeRounds times and the
// median round reported, so that one preempted round does not move it.
const (
	probeRounds = 5
	// probeSyscalls is how many getppid(2) calls a round makes.
	probeSyscalls = 50_000
	// probeTCPRoundTrips is how many one-byte exchanges a round makes.
	probeTCPRoundTrips = 5_000
	// probeHTTPRoundTrips is how many requests a round sends.
	probeHTTPRoundTrips = 1_000
	// probeBody is the size of a probe request's body: about a webhook's.
	probeBody = 256
)

// hostProbe is what the host charges for the operations herald's delivery
// path is made of, measured before the scenarios on an idle machine. Two
// runs of the same code on hosts that differ here differ in their figures:
// herald makes several system calls and loopback round trips per delivery
// (an HTTP request out, one in when API-fed, the database's round trips),
// River's baseline a few per thousand jobs, so a host with costly system
// calls lowers herald's ratios as well as its rates. Each figure is the
// median of probeRounds rounds' means.
type hostProbe struct {
	// SyscallMicros is one getppid(2): the cost of entering the kernel.
	SyscallMicros float64 `json:"syscall_us"`
	// TCPRoundTripMicros is one byte sent over a loopback TCP connection
	// and one byte answered, between two goroutines of this process.
	TCPRoundTripMicros float64 `json:"tcp_round_trip_us"`
	// HTTPRoundTripMicros is one POST of probeBody bytes answered 204 over
	// a keep-alive loopback connection, net/http on both sides, one
	// request at a time.
	HTTPRoundTripMicros float64 `json:"http_round_trip_us"`
}

// probeHost measures the host (about a second).
func probeHost(ctx context.Context) (hostProbe, error) {
	var p hostProbe
	var err error
	p.SyscallMicros = medianRound(probeSyscalls, func(n int) error {
		for range n {
			syscall.Getppid()
		}
		return nil
	}, &err)
	p.TCPRoundTripMicros = medianRound(probeTCPRoundTrips, tcpRoundTrips, &err)
	p.HTTPRoundTripMicros = medianRound(probeHTTPRoundTrips, func(n int) error { return httpRoundTrips(ctx, n) }, &err)
	return p, err
}

// medianRound runs probeRounds rounds of n operations and returns the
// median mean in microseconds; the first error goes to *errp.
func medianRound(n int, round func(n int) error, errp *error) float64 {
	if *errp != nil {
		return 0
	}
	means := make([]float64, 0, probeRounds)
	for range probeRounds {
		start := time.Now()
		if err := round(n); err != nil {
			*errp = err
			return 0
		}
		means = append(means, float64(time.Since(start).Nanoseconds())/1e3/float64(n))
	}
	slices.Sort(means)
	return means[len(means)/2]
}

// tcpRoundTrips exchanges n single bytes over a fresh loopback connection.
func tcpRoundTrips(n int) (err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("host probe: %w", err)
	}
	defer ln.Close()
	echoed := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			echoed <- err
			return
		}
		defer c.Close()
		b := make([]byte, 1)
		for {
			if _, err := io.ReadFull(c, b); err != nil {
				echoed <- nil // the client closed
				return
			}
			if _, err := c.Write(b); err != nil {
				echoed <- err
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("host probe: %w", err)
	}
	b := make([]byte, 1)
	for range n {
		if _, err = c.Write(b); err != nil {
			break
		}
		if _, err = io.ReadFull(c, b); err != nil {
			break
		}
	}
	err = errors.Join(err, c.Close(), <-echoed)
	if err != nil {
		return fmt.Errorf("host probe: loopback round trips: %w", err)
	}
	return nil
}

// httpRoundTrips sends n POSTs, one at a time, to a loopback net/http
// server answering 204, over one keep-alive connection.
func httpRoundTrips(ctx context.Context, n int) (err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("host probe: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() { err = errors.Join(err, srv.Close()) }()
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/probe"
	body := bytes.Repeat([]byte("x"), probeBody)
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("host probe: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("host probe: HTTP round trips: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("host probe: HTTP round trips: status %d", resp.StatusCode)
		}
	}
	return nil
}
