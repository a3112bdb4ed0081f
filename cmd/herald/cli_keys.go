package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/herald-sched/herald/client"
)

func keysCommand() *cliCommand {
	return &cliCommand{
		name:    "keys",
		summary: "Create, list and revoke API keys.",
		sub: []*cliCommand{
			{name: "create", args: "NAME", summary: "Create an API key (--scope admin|write|read, default read; --label k=v,... limits it to jobs with those labels); it is shown only this once.", setup: keysCreate},
			{name: "list", summary: "List API keys (without the keys themselves).", setup: keysList},
			{name: "revoke", args: "KEY-ID", summary: "Revoke an API key: it is refused from the next request on.", setup: keysRevoke},
		},
	}
}

func keysCreate(cl *cli, s *settings) func(context.Context, []string) error {
	var scope, labels string
	s.String(&scope, "scope", "", "read", "The key's scope: admin (everything), write (jobs, runs, devices) or read (GET only).")
	s.String(&labels, "label", "", "", "Limit the key to jobs carrying these labels (and their runs): k=v[,k=v...].")
	return func(ctx context.Context, args []string) error {
		c, name, err := cl.clientAndArg(args, "NAME")
		if err != nil {
			return err
		}
		in := client.APIKeyInput{Name: name, Scope: new(client.APIKeyInputScope(scope))}
		if labels != "" {
			in.Labels = map[string]string{}
			for _, kv := range strings.Split(labels, ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageError("--label: want k=v[,k=v...], got %s", kv)
				}
				in.Labels[k] = v
			}
		}
		k, err := c.CreateKeyWith(ctx, in)
		if err != nil {
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(k)
		}
		fmt.Fprintf(cl.stdout, "key %q created (id %s, scope %s); it is shown only now:\n%s\n", k.Name, k.Id, k.Scope, k.Key)
		return nil
	}
}

func keysList(cl *cli, s *settings) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		c, err := cl.client()
		if err != nil {
			return err
		}
		keys, err := c.Keys(ctx)
		if err != nil {
			return cl.fail(err)
		}
		if keys == nil {
			keys = []client.APIKey{}
		}
		if cl.json() {
			return cl.printJSON(keys)
		}
		t := newTable(cl.stdout, "ID", "NAME", "PREFIX", "SCOPE", "LABELS", "CREATED", "REVOKED")
		for _, k := range keys {
			labels := "-"
			if k.Labels != nil {
				labels = labelsText(k.Labels)
			}
			t.row(k.Id.String(), k.Name, k.Prefix+"…", string(k.Scope), labels, when(&k.CreatedAt), when(k.RevokedAt))
		}
		return t.flush()
	}
}

func keysRevoke(cl *cli, s *settings) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		c, id, err := cl.clientAndArg(args, "KEY-ID")
		if err != nil {
			return err
		}
		if err := c.RevokeKey(ctx, id); err != nil {
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(map[string]string{"id": id, "revoked": "true"})
		}
		fmt.Fprintf(cl.stdout, "key %s revoked\n", id)
		return nil
	}
}
