package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// floorRounds is how many whole seconds the burst floor measures, after
// one round that opens the connections.
const floorRounds = 5

// burstFloor measures what this machine allows for lateness before any
// scheduler work: a bare net/http client, with k keep-alive connections
// already open, sends k requests at each of floorRounds whole seconds to a
// receiver like the scenarios' one (in this process, as herald's
// receiver is), each goroutine woken by its own timer at the second. It
// reports the lateness (arrival minus the second) of those requests: herald
// firing k schedules in the same instant cannot do better.
func burstFloor(ctx context.Context, e *env, k int) (_ latencies, err error) {
	rc, err := startReceiver(k*(floorRounds+1), e.libLogger)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, rc.Close()) }()
	tr := &http.Transport{MaxIdleConns: k, MaxIdleConnsPerHost: k}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	jobs := make([]string, k)
	for i := range jobs {
		jobs[i] = "floor-" + strconv.Itoa(i)
	}
	first := time.Now().Add(latenessMargin).Truncate(time.Second).Add(time.Second)
	for round := range floorRounds + 1 {
		at := first.Add(time.Duration(round) * time.Second)
		if err := burst(ctx, client, rc.URL(), jobs, at); err != nil {
			return nil, fmt.Errorf("burst floor: %w", err)
		}
	}
	rep := analyzeTicks(rc.Deliveries(), jobs, first.Add(time.Second), floorRounds, 1)
	if rep.Missed > 0 {
		return nil, fmt.Errorf("burst floor: %d of %d requests failed", rep.Missed, rep.Expected)
	}
	return rep.Lateness, nil
}

// burst sends one request per job at at, each from its own goroutine.
func burst(ctx context.Context, client *http.Client, url string, jobs []string, at time.Time) error {
	scheduledFor := at.UTC().Format(time.RFC3339Nano)
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, job := range jobs {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Herald-Job", job)
			req.Header.Set("Herald-Scheduled-For", scheduledFor)
			if err := waitUntil(ctx, at); err != nil {
				errs[i] = err
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			errs[i] = resp.Body.Close()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
