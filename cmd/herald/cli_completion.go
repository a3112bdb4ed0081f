package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/herald-sched/herald/client"
)

func completionCommand() *cliCommand {
	return &cliCommand{
		name:    "completion",
		args:    "bash|zsh|fish",
		summary: "Print a shell completion script.",
		about: `Completes commands, flags, their values and job names (asked of the server
given by HERALD_URL and HERALD_API_KEY, within a second). For example:
  bash: source <(herald completion bash)      (in ~/.bashrc)
  zsh:  source <(herald completion zsh)       (in ~/.zshrc, after compinit)
  fish: herald completion fish > ~/.config/fish/completions/herald.fish`,
		setup: completionRun,
	}
}

// completionScripts call "herald __complete WORDS...", whose answer is the
// candidates for the last word, one a line; none lets the shell complete
// file names.
var completionScripts = map[string]string{
	"bash": `_herald() {
    local IFS=$'\n'
    COMPREPLY=($(herald __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _herald herald
`,
	"zsh": `#compdef herald
_herald() {
    local -a candidates
    candidates=("${(@f)$(herald __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ -n "${candidates[1]}" ]]; then
        compadd -a candidates
    else
        _files
    fi
}
compdef _herald herald
`,
	"fish": `function __herald_complete
    set -l candidates (herald __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)
    if test (count $candidates) -gt 0
        printf '%s\n' $candidates
    else
        __fish_complete_path (commandline -ct)
    end
end
complete -c herald -f -a '(__herald_complete)'
`,
}

func completionRun(cl *cli, s *settings) func(context.Context, []string) error {
	return func(_ context.Context, args []string) error {
		shell, err := oneArg(args, "bash, zsh or fish")
		if err != nil {
			return err
		}
		script, ok := completionScripts[shell]
		if !ok {
			return usageError("no completion for %q: want bash, zsh or fish", shell)
		}
		_, err = io.WriteString(cl.stdout, script)
		return err
	}
}

// otherCommands are herald's commands that are not client commands.
var otherCommands = []string{"serve", "migrate", "receive", "version", "help"}

// complete writes the candidates for the last of words (the command line
// after "herald", the word being typed last), one a line.
func complete(ctx context.Context, words []string, w io.Writer) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, done := words[len(words)-1], words[:len(words)-1]
	emit := func(candidates ...string) {
		for _, c := range candidates {
			if strings.HasPrefix(c, cur) {
				fmt.Fprintln(w, c)
			}
		}
	}
	cmd, path, done := lookupCommand(done)
	switch {
	case cmd == nil:
		if len(done) == 0 {
			emit(otherCommands...)
			for _, c := range cliCommands() {
				emit(c.name)
			}
		}
		return
	case cmd.sub != nil:
		if len(done) == 0 {
			for _, c := range cmd.sub {
				emit(c.name)
			}
		}
		return
	}
	cl := &cli{stdout: io.Discard, stderr: io.Discard}
	s := cl.flags(path, cmd)
	cmd.setup(cl, s)
	if len(done) > 0 {
		if prev := done[len(done)-1]; strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") {
			if f := s.fs.Lookup(strings.TrimLeft(prev, "-")); f != nil && !isBoolFlag(f.Value) {
				emit(flagValues(f.Name)...)
				return // a value; none known: the shell completes file names
			}
		}
	}
	if strings.HasPrefix(cur, "-") {
		for _, st := range s.list {
			emit("--" + st.flag)
		}
		return
	}
	if strings.Contains(cmd.args, "JOB") {
		emit(jobNames(ctx, cl, s)...)
	}
}

func isBoolFlag(v any) bool {
	b, ok := v.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flagValues are the values a flag takes, when there are few.
func flagValues(flag string) []string {
	switch flag {
	case "output", "o":
		return []string{"table", "json"}
	case "format":
		return []string{"dot", "svg", "json"}
	case "state":
		return []string{"running", "queued", "skipped", "succeeded", "failed", "cancelled"}
	case "paused":
		return []string{"true", "false"}
	}
	return nil
}

// jobNames asks the server (HERALD_URL, HERALD_API_KEY) for job names,
// within a second; none when it cannot be reached.
func jobNames(ctx context.Context, cl *cli, s *settings) []string {
	if err := s.readEnv(nil); err != nil {
		return nil
	}
	c, err := client.New(cl.server, cl.apiKey, client.WithRetries(0))
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var names []string
	for j, err := range c.Jobs(ctx, &client.ListJobsParams{Limit: new(200)}) {
		if err != nil || len(names) == 200 {
			break
		}
		names = append(names, j.Name)
	}
	return names
}
