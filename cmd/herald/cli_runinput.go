package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-sched/herald/client"
)

// triggerPath is the route that triggers a run, in the API document.
const triggerPath = "/v1/jobs/{jobID}/runs"

// requireRunInput refuses, before anything is sent, to trigger a run with an
// input on a server that would ignore it: one whose API document (served at
// /openapi.yaml) gives the trigger no request body.
func requireRunInput(ctx context.Context, c *client.Client) error {
	resp, err := c.Raw().OpenapiWithResponse(ctx)
	if err != nil {
		return err
	}
	if resp.YAML200 == nil {
		return fmt.Errorf("%s/openapi.yaml answered %d: cannot tell whether the server takes run input; nothing was triggered", c.BaseURL(), resp.StatusCode())
	}
	doc := *resp.YAML200
	post := dig(doc, "paths", triggerPath, "post")
	if post == nil {
		return errors.New("the server's /openapi.yaml does not describe triggering a run; nothing was triggered")
	}
	if dig(post, "requestBody") == nil {
		return &exitError{code: exitFailed, err: errors.New("this server does not take run input (its /openapi.yaml gives POST " + triggerPath + " no request body); nothing was triggered")}
	}
	return nil
}

// dig follows keys through nested YAML mappings; nil when one is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = m[k]; !ok {
			return nil
		}
	}
	return v
}
