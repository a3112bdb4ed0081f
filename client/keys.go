package client

import (
	"context"
	"net/http"
)

// CreateKey creates an API key named name. The answer carries the key
// (hk_...), which later reads never show.
func (c *Client) CreateKey(ctx context.Context, name string) (*APIKeyCreated, error) {
	return c.CreateKeyWith(ctx, APIKeyInput{Name: name})
}

// CreateKeyWith creates an API key with a scope (admin, write or read; the
// server's default is read) and a label limit.
func (c *Client) CreateKeyWith(ctx context.Context, in APIKeyInput) (*APIKeyCreated, error) {
	return do[APIKeyCreated](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.CreateKey(ctx, in)
	})
}

// Keys lists every API key, newest first, without the keys themselves.
func (c *Client) Keys(ctx context.Context) ([]APIKey, error) {
	list, err := do[APIKeyList](ctx, c, retryAlways, func(ctx context.Context) (*http.Response, error) {
		return c.raw.ListKeys(ctx)
	})
	if err != nil {
		return nil, err
	}
	return list.Data, nil
}

// RevokeKey revokes an API key: requests with it are refused from now on.
// Revoking a key already revoked is a 404 Problem, like an unknown key.
func (c *Client) RevokeKey(ctx context.Context, id string) error {
	_, err := do[struct{}](ctx, c, retryIfUnchanged, func(ctx context.Context) (*http.Response, error) {
		return c.raw.RevokeKey(ctx, id)
	})
	return err
}
