package main

import (
	"context"
	"os/exec"
	"regexp"
)

// heraldFlag is a `herald serve` flag every replica gets, when its herald
// knows it.
type heraldFlag struct {
	// Name is the flag without its dashes.
	Name string
	// Value is what the suite sets it to.
	Value string
}

// replicaFlags are the flags the suite sets on every replica, in one place:
// fast heartbeats and a short replica timeout, so that a killed replica is
// found dead (and its work reclaimed) within seconds of the kill, and a
// shutdown timeout that lets a SIGTERMed replica finish the slow receiver's
// deliveries. A flag its `herald serve --help` does not list is left out and
// named in the report (an older herald: replica heartbeats are newer than
// this suite).
var replicaFlags = []heraldFlag{
	{Name: "heartbeat-interval", Value: "500ms"},
	{Name: "replica-timeout", Value: "3s"},
	{Name: "shutdown-timeout", Value: "10s"},
}

// heraldArgs returns the replicaFlags that the herald binary bin lists in
// `herald serve --help`, as arguments, and the names of those it lacks.
func heraldArgs(ctx context.Context, bin string) (args, missing []string, err error) {
	// --help prints the flags and exits 0; the output is all that matters.
	out, err := exec.CommandContext(ctx, bin, "serve", "--help").CombinedOutput()
	if err != nil {
		return nil, nil, err
	}
	help := string(out)
	for _, f := range replicaFlags {
		if regexp.MustCompile(`(^|\s)--` + regexp.QuoteMeta(f.Name) + `(\s|=|$)`).MatchString(help) {
			args = append(args, "--"+f.Name, f.Value)
		} else {
			missing = append(missing, f.Name)
		}
	}
	return args, missing, nil
}
