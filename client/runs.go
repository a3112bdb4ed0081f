package client

import (
	"context"
	"iter"
	"net/http"
)

// TriggerRun starts a run of a job now (also of a paused job). It carries
// an Idempotency-Key (WithIdempotencyKey, or a new one), so that its retries
// cannot start two runs; WithInput gives the run an input.
func (c *Client) TriggerRun(ctx context.Context, jobID string, opts ...CallOption) (*Run, error) {
	cc := callOptions(opts)
	params := &TriggerRunParams{IdempotencyKey: &cc.idempotencyKey}
	return do[Run](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		if cc.input == nil {
			return c.raw.TriggerRunWithBody(ctx, jobID, params, "", nil)
		}
		var in InboundPayload = cc.input
		return c.raw.TriggerRun(ctx, jobID, params, TriggerInput{Input: &in})
	})
}

// GetRun reads a run with every task and its attempts.
func (c *Client) GetRun(ctx context.Context, id string) (*Run, error) {
	return do[Run](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.GetRun(ctx, id)
	})
}

// CancelRun cancels a running or queued run (a 409 Problem once it ended).
func (c *Client) CancelRun(ctx context.Context, id string) (*Run, error) {
	return do[Run](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.CancelRun(ctx, id)
	})
}

// RetryRun re-runs the failed, upstream_failed and cancelled tasks of a
// failed or cancelled run (a 409 Problem otherwise).
func (c *Client) RetryRun(ctx context.Context, id string) (*Run, error) {
	return do[Run](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.RetryRun(ctx, id)
	})
}

// PauseRollout holds the running rollouts of a run (a 409 Problem when it
// has none).
func (c *Client) PauseRollout(ctx context.Context, id string) (*Run, error) {
	return do[Run](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.PauseRollout(ctx, id)
	})
}

// ResumeRollout continues the paused or aborted rollouts of a run (a 409
// Problem when it has none).
func (c *Client) ResumeRollout(ctx context.Context, id string) (*Run, error) {
	return do[Run](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.ResumeRollout(ctx, id)
	})
}

// ReplayRuns retries the failed runs that in selects.
func (c *Client) ReplayRuns(ctx context.Context, in ReplayInput) (*ReplayResult, error) {
	return do[ReplayResult](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.ReplayRuns(ctx, in)
	})
}

// Runs iterates over the runs that pass params' filters (nil: all), newest
// first, without their tasks (GetRun has them), fetching page after page as
// the loop goes on.
func (c *Client) Runs(ctx context.Context, params *ListRunsParams) iter.Seq2[Run, error] {
	var p ListRunsParams
	if params != nil {
		p = *params
	}
	return pages(ctx, func(ctx context.Context, cursor *string) ([]Run, *string, error) {
		p.Cursor = cursor
		page, err := do[RunList](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
			return c.raw.ListRuns(ctx, &p)
		})
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}
