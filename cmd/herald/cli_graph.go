package main

import (
	"context"

	"github.com/herald-sched/herald/client"
)

func graphCommand() *cliCommand {
	return &cliCommand{
		name:    "graph",
		args:    "JOB",
		summary: "Write a job's task graph: DOT for Graphviz, an SVG drawing, or JSON.",
		about:   jobRefText + "\n\nFor example: herald graph nightly-sync --format svg > nightly-sync.svg",
		setup:   graphRun,
	}
}

func graphRun(cl *cli, s *settings) func(context.Context, []string) error {
	var format string
	s.String(&format, "format", "", "dot", "dot, svg or json (-o json is the same as --format json).")
	return func(ctx context.Context, args []string) error {
		if cl.json() {
			format = "json"
		}
		f := client.GraphFormat(format)
		if !f.Valid() {
			return usageError("--format %q: want dot, svg or json", format)
		}
		c, j, err := cl.clientAndJob(ctx, args)
		if err != nil {
			return err
		}
		doc, err := c.JobGraphDocument(ctx, j.Id.String(), f)
		if err != nil {
			return cl.fail(err)
		}
		_, err = cl.stdout.Write(doc)
		return err
	}
}
