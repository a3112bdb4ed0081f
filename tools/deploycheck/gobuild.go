package deploycheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// ImageBinary is where the image keeps herald: the ENTRYPOINT's program.
const ImageBinary = "/herald"

// GoBuild is the `go build` of the Dockerfile that makes the image's
// binary: the RUN in the stage the final stage copies ImageBinary from.
type GoBuild struct {
	Instruction Instruction
	// Env is the stage's ENV at that RUN (CGO_ENABLED, GOFLAGS, ...).
	Env map[string]string
	// Args are go's arguments, build first, with the stage's ARGs expanded
	// (their defaults, or the values given to FindGoBuild).
	Args []string
	// Output is the -o path.
	Output string
}

// FindGoBuild finds the Dockerfile's go build of the image's binary. args
// override ARG defaults (as --build-arg would).
func FindGoBuild(d *Dockerfile, args map[string]string) (GoBuild, error) {
	st, src, err := d.CopyFrom(ImageBinary)
	if err != nil {
		return GoBuild{}, err
	}
	for i, ins := range st.Instructions {
		if ins.Keyword != "RUN" || !strings.HasPrefix(ins.Value, "go build ") {
			continue
		}
		env, err := st.Env(i)
		if err != nil {
			return GoBuild{}, err
		}
		vars := st.Args(d, i)
		for k, v := range args {
			if _, declared := vars[k]; declared {
				vars[k] = v
			}
		}
		lookup := func(name string) (string, bool) {
			if v, ok := env[name]; ok {
				return v, true
			}
			v, ok := vars[name]
			return v, ok
		}
		words, err := shellWords(ins.Value, lookup)
		if err != nil {
			return GoBuild{}, fmt.Errorf("line %d: %w", ins.Line, err)
		}
		b := GoBuild{Instruction: ins, Env: env, Args: words[1:]}
		if b.Output, err = b.flag("-o"); err != nil {
			return GoBuild{}, fmt.Errorf("line %d: %w", ins.Line, err)
		}
		if b.Output != src {
			continue
		}
		return b, nil
	}
	return GoBuild{}, fmt.Errorf("stage %s has no RUN go build -o %s (the binary the final stage copies)", st.Name, src)
}

// flag returns the value of a go build flag given as -name value or
// -name=value.
func (b GoBuild) flag(name string) (string, error) {
	for i, a := range b.Args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, nil
		}
		if a == name {
			if i+1 >= len(b.Args) {
				return "", fmt.Errorf("%s without a value", name)
			}
			return b.Args[i+1], nil
		}
	}
	return "", fmt.Errorf("go build without %s", name)
}

// Flag is the value of one of the build's flags (-ldflags, -o, ...), or "".
func (b GoBuild) Flag(name string) string {
	v, _ := b.flag(name)
	return v
}

// Has reports whether the build passes the boolean flag (-trimpath).
func (b GoBuild) Has(name string) bool { return slices.Contains(b.Args, name) }

// Run runs the build in dir (the repository root) with the Dockerfile's
// environment over this process's, writing the binary to out instead of the
// image's path. It returns the command line it ran.
func (b GoBuild) Run(ctx context.Context, dir, out string) (string, error) {
	args := slices.Clone(b.Args)
	for i, a := range args {
		switch {
		case a == "-o":
			args[i+1] = out
		case strings.HasPrefix(a, "-o="):
			args[i] = "-o=" + out
		}
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	var envList []string
	for k, v := range b.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
		envList = append(envList, k+"="+v)
	}
	slices.Sort(envList)
	shown := slices.Clone(args)
	for i, a := range shown {
		if strings.ContainsAny(a, " \t'\"") {
			shown[i] = strconv.Quote(a)
		}
	}
	line := strings.Join(envList, " ") + " go " + strings.Join(shown, " ")
	if outb, err := cmd.CombinedOutput(); err != nil {
		return line, fmt.Errorf("%s: %w\n%s", line, err, outb)
	}
	return line, nil
}
