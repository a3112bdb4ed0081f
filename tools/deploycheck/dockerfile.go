package deploycheck

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Dockerfile is a parsed Dockerfile: its stages, each a list of
// instructions. It reads the subset herald's Dockerfile uses; what it does
// not understand it refuses rather than guesses.
type Dockerfile struct {
	// GlobalArgs are the ARGs declared before the first FROM.
	GlobalArgs map[string]string
	Stages     []*Stage
}

// Stage is one FROM and the instructions under it.
type Stage struct {
	// Name is the stage's AS name; empty when it has none.
	Name string
	// Base is the image the stage starts from, as written.
	Base         string
	Instructions []Instruction
}

// Instruction is one instruction with its continuation lines joined.
type Instruction struct {
	// Line is where the instruction starts (1-based).
	Line int
	// Keyword is the instruction in upper case: RUN, ENV, COPY, ...
	Keyword string
	// Value is the rest of the instruction.
	Value string
}

// ReadDockerfile parses the Dockerfile at path.
func ReadDockerfile(path string) (*Dockerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ParseDockerfile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// ParseDockerfile parses a Dockerfile: comments and blank lines are skipped,
// a line ending in a backslash continues on the next.
func ParseDockerfile(r io.Reader) (*Dockerfile, error) {
	d := &Dockerfile{GlobalArgs: map[string]string{}}
	sc := bufio.NewScanner(r)
	var (
		pending   strings.Builder
		startLine int
	)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue // also inside a continuation, as Docker does
		}
		if pending.Len() == 0 {
			startLine = n
		} else {
			pending.WriteByte(' ')
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending.WriteString(strings.TrimSpace(body))
			continue
		}
		pending.WriteString(trimmed)
		if err := d.add(startLine, pending.String()); err != nil {
			return nil, fmt.Errorf("line %d: %w", startLine, err)
		}
		pending.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: the file ends inside a continued instruction", startLine)
	}
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return d, nil
}

// add appends one whole instruction.
func (d *Dockerfile) add(line int, text string) error {
	keyword, value, _ := strings.Cut(text, " ")
	ins := Instruction{Line: line, Keyword: strings.ToUpper(keyword), Value: strings.TrimSpace(value)}
	switch ins.Keyword {
	case "FROM":
		words := strings.Fields(ins.Value)
		st := &Stage{}
		switch {
		case len(words) == 1:
		case len(words) == 3 && strings.EqualFold(words[1], "AS"):
			st.Name = words[2]
		default:
			return fmt.Errorf("FROM %s: want IMAGE [AS NAME]", ins.Value)
		}
		st.Base = words[0]
		d.Stages = append(d.Stages, st)
		return nil
	case "ARG":
		if len(d.Stages) == 0 {
			name, def, _ := strings.Cut(ins.Value, "=")
			d.GlobalArgs[name] = def
			return nil
		}
	}
	if len(d.Stages) == 0 {
		return fmt.Errorf("%s before the first FROM", ins.Keyword)
	}
	st := d.Stages[len(d.Stages)-1]
	st.Instructions = append(st.Instructions, ins)
	return nil
}

// Final is the last stage: the image.
func (d *Dockerfile) Final() *Stage { return d.Stages[len(d.Stages)-1] }

// Stage returns the stage named name, or nil.
func (d *Dockerfile) Stage(name string) *Stage {
	for _, st := range d.Stages {
		if st.Name == name {
			return st
		}
	}
	return nil
}

// All returns the stage's instructions with the keyword.
func (s *Stage) All(keyword string) []Instruction {
	var out []Instruction
	for _, ins := range s.Instructions {
		if ins.Keyword == keyword {
			out = append(out, ins)
		}
	}
	return out
}

// last returns the stage's last instruction with the keyword.
func (s *Stage) last(keyword string) (Instruction, bool) {
	all := s.All(keyword)
	if len(all) == 0 {
		return Instruction{}, false
	}
	return all[len(all)-1], true
}

// User is the stage's USER (the last one), or "" when it sets none.
func (s *Stage) User() string {
	ins, _ := s.last("USER")
	return ins.Value
}

// Entrypoint is the stage's ENTRYPOINT, which must be in exec (JSON) form:
// the shell form needs a shell in the image.
func (s *Stage) Entrypoint() ([]string, error) {
	ins, ok := s.last("ENTRYPOINT")
	if !ok {
		return nil, fmt.Errorf("no ENTRYPOINT")
	}
	var argv []string
	if err := json.Unmarshal([]byte(ins.Value), &argv); err != nil || len(argv) == 0 {
		return nil, fmt.Errorf("line %d: ENTRYPOINT %s is not in exec form (a JSON array), which needs no shell", ins.Line, ins.Value)
	}
	return argv, nil
}

// Ports lists the stage's EXPOSEd ports as written (8080, 8080/tcp).
func (s *Stage) Ports() []string {
	var out []string
	for _, ins := range s.All("EXPOSE") {
		out = append(out, strings.Fields(ins.Value)...)
	}
	return out
}

// Env is the environment the stage's ENV instructions before the one at
// index upTo set (all of them for upTo < 0), in the KEY=VALUE form.
func (s *Stage) Env(upTo int) (map[string]string, error) {
	env := map[string]string{}
	for i, ins := range s.Instructions {
		if upTo >= 0 && i >= upTo {
			break
		}
		if ins.Keyword != "ENV" {
			continue
		}
		words, err := shellWords(ins.Value, nil)
		if err != nil {
			return nil, fmt.Errorf("line %d: ENV: %w", ins.Line, err)
		}
		for _, w := range words {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: ENV %s: want KEY=VALUE pairs", ins.Line, ins.Value)
			}
			env[k] = v
		}
	}
	return env, nil
}

// Args are the stage's ARG defaults before the instruction at index upTo,
// with the global ARGs a stage ARG names without a default.
func (s *Stage) Args(d *Dockerfile, upTo int) map[string]string {
	args := map[string]string{}
	for i, ins := range s.Instructions {
		if i >= upTo {
			break
		}
		if ins.Keyword != "ARG" {
			continue
		}
		name, def, hasDefault := strings.Cut(ins.Value, "=")
		if !hasDefault {
			def = d.GlobalArgs[name]
		}
		args[name] = def
	}
	return args
}

// CopyFrom finds the final stage's COPY --from=STAGE SRC DST whose DST is
// dst, and returns the stage and SRC.
func (d *Dockerfile) CopyFrom(dst string) (*Stage, string, error) {
	for _, ins := range d.Final().All("COPY") {
		words := strings.Fields(ins.Value)
		var from string
		var paths []string
		for _, w := range words {
			if v, ok := strings.CutPrefix(w, "--from="); ok {
				from = v
			} else if !strings.HasPrefix(w, "--") {
				paths = append(paths, w)
			}
		}
		if from == "" || len(paths) != 2 || paths[1] != dst {
			continue
		}
		st := d.Stage(from)
		if st == nil {
			return nil, "", fmt.Errorf("line %d: COPY --from=%s: no such stage", ins.Line, from)
		}
		return st, paths[0], nil
	}
	return nil, "", fmt.Errorf("the final stage copies nothing to %s from a build stage", dst)
}
