package client

import (
	"context"
	"iter"
	"net/http"
)

// CreateDevice registers a device. The answer carries its token, which
// later reads never show.
func (c *Client) CreateDevice(ctx context.Context, in DeviceInput) (*DeviceCreated, error) {
	return do[DeviceCreated](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.CreateDevice(ctx, in)
	})
}

// GetDevice reads a device, its liveness and last reported load.
func (c *Client) GetDevice(ctx context.Context, id string) (*Device, error) {
	return do[Device](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.GetDevice(ctx, id)
	})
}

// UpdateDevice replaces a device's definition (its token, liveness and load
// are kept).
func (c *Client) UpdateDevice(ctx context.Context, id string, in DeviceInput) (*Device, error) {
	return do[Device](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.UpdateDevice(ctx, id, in)
	})
}

// DeleteDevice deletes a device; its token stops working.
func (c *Client) DeleteDevice(ctx context.Context, id string) error {
	_, err := do[struct{}](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.DeleteDevice(ctx, id)
	})
	return err
}

// Devices iterates over the devices that pass params' filters (nil: all),
// newest first, fetching page after page as the loop goes on.
func (c *Client) Devices(ctx context.Context, params *ListDevicesParams) iter.Seq2[Device, error] {
	var p ListDevicesParams
	if params != nil {
		p = *params
	}
	return pages(ctx, func(ctx context.Context, cursor *string) ([]Device, *string, error) {
		p.Cursor = cursor
		page, err := do[DeviceList](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
			return c.raw.ListDevices(ctx, &p)
		})
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}
