package main

import (
	"context"
	"sync/atomic"
)

// registerWorkers is how many clients register jobs at once.
const registerWorkers = 16

// registerJobs creates n jobs from body through the API, registerWorkers at
// a time, and returns their ids. The first is created alone, so that a
// refusal (*refusedError) comes back once, before any load.
func registerJobs(ctx context.Context, api *apiClient, body []byte, n int) ([]string, error) {
	return registerEach(ctx, api, n, func(int) []byte { return body })
}

// registerEach is registerJobs with the i-th job's own body.
func registerEach(ctx context.Context, api *apiClient, n int, body func(i int) []byte) ([]string, error) {
	ids := make([]string, n)
	if n == 0 {
		return ids, nil
	}
	first, err := api.CreateJob(ctx, body(0))
	if err != nil {
		return nil, err
	}
	ids[0] = first
	var next atomic.Int64
	next.Store(1)
	err = parallel(ctx, registerWorkers, func(ctx context.Context, _ int) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return nil
			}
			id, err := api.CreateJob(ctx, body(i))
			if err != nil {
				return err
			}
			ids[i] = id
		}
	})
	return ids, err
}
