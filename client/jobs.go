package client

import (
	"context"
	"iter"
	"net/http"
)

// CreateJob registers a job. The answer carries its signing secret, which
// later reads never show. It carries an Idempotency-Key (WithIdempotencyKey,
// or a new one), so that its retries cannot create the job twice.
func (c *Client) CreateJob(ctx context.Context, in JobInput, opts ...CallOption) (*JobCreated, error) {
	key := callOptions(opts).idempotencyKey
	return do[JobCreated](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.CreateJob(ctx, &CreateJobParams{IdempotencyKey: &key}, in)
	})
}

// GetJob reads a job (without its secret).
func (c *Client) GetJob(ctx context.Context, id string) (*Job, error) {
	return do[Job](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.GetJob(ctx, id)
	})
}

// UpdateJob replaces a job's whole definition; its schedule is re-armed
// from now.
func (c *Client) UpdateJob(ctx context.Context, id string, in JobInput) (*Job, error) {
	return do[Job](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.UpdateJob(ctx, id, in)
	})
}

// DeleteJob deletes a job; its runs stay readable.
func (c *Client) DeleteJob(ctx context.Context, id string) error {
	_, err := do[struct{}](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.DeleteJob(ctx, id)
	})
	return err
}

// PauseJob stops a job's ticks until ResumeJob.
func (c *Client) PauseJob(ctx context.Context, id string) (*Job, error) {
	return do[Job](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.PauseJob(ctx, id)
	})
}

// ResumeJob resumes a paused job; the ticks it missed follow its misfire
// policy.
func (c *Client) ResumeJob(ctx context.Context, id string) (*Job, error) {
	return do[Job](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.ResumeJob(ctx, id)
	})
}

// RotateSecret gives a job a new signing secret, in the answer.
func (c *Client) RotateSecret(ctx context.Context, id string) (*JobCreated, error) {
	return do[JobCreated](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.RotateSecret(ctx, id)
	})
}

// Jobs iterates over the jobs that pass params' filters (nil: all), newest
// first, fetching page after page (params.Limit jobs each) as the loop goes
// on.
func (c *Client) Jobs(ctx context.Context, params *ListJobsParams) iter.Seq2[Job, error] {
	var p ListJobsParams
	if params != nil {
		p = *params
	}
	return pages(ctx, func(ctx context.Context, cursor *string) ([]Job, *string, error) {
		p.Cursor = cursor
		page, err := do[JobList](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
			return c.raw.ListJobs(ctx, &p)
		})
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}

// JobGraph is a job's task graph.
func (c *Client) JobGraph(ctx context.Context, id string) (*Graph, error) {
	format := GraphFormatJson
	return do[Graph](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.JobGraph(ctx, id, &JobGraphParams{Format: &format})
	})
}

// JobGraphDocument is a job's task graph drawn as SVG (GraphFormatSvg) or
// written in Graphviz's DOT (GraphFormatDot).
func (c *Client) JobGraphDocument(ctx context.Context, id string, format GraphFormat) ([]byte, error) {
	body, err := do[[]byte](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.JobGraph(ctx, id, &JobGraphParams{Format: &format})
	})
	if err != nil {
		return nil, err
	}
	return *body, nil
}

// PreviewSchedule lists a schedule's next fire times, creating nothing.
func (c *Client) PreviewSchedule(ctx context.Context, in SchedulePreviewInput) (*SchedulePreview, error) {
	return do[SchedulePreview](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.PreviewSchedule(ctx, in)
	})
}
