package main

import (
	"context"
	"iter"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/client"
)

// oneArg checks that a command got exactly one argument, named what.
func oneArg(args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", usageError("want one argument, %s (got %d)", what, len(args))
	}
	return args[0], nil
}

// noArgs checks that a command got no argument.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usageError("unexpected argument %q", args[0])
	}
	return nil
}

// clientAndArg checks that a command got one argument, named what, and
// returns it with the client.
func (cl *cli) clientAndArg(args []string, what string) (*client.Client, string, error) {
	arg, err := oneArg(args, what)
	if err != nil {
		return nil, "", err
	}
	c, err := cl.client()
	return c, arg, err
}

// clientAndJob returns the client and the job a command's one argument
// names (its id, or its name).
func (cl *cli) clientAndJob(ctx context.Context, args []string) (*client.Client, *client.Job, error) {
	c, ref, err := cl.clientAndArg(args, "JOB")
	if err != nil {
		return nil, nil, err
	}
	j, err := resolveJob(ctx, c, ref)
	if err != nil {
		return nil, nil, cl.fail(err)
	}
	return c, j, nil
}

// clientAndRun returns the client and the run id that is a command's one
// argument.
func (cl *cli) clientAndRun(args []string) (*client.Client, string, error) {
	id, err := oneArg(args, "RUN")
	if err != nil {
		return nil, "", err
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, "", usageError("%q is not a run id", id)
	}
	c, err := cl.client()
	return c, id, err
}

// collect gathers the items of a list, at most limit of them (0: all).
func collect[T any](items iter.Seq2[T, error], limit int) ([]T, error) {
	out := []T{}
	for it, err := range items {
		if err != nil {
			return nil, err
		}
		out = append(out, it)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}
