package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// setting is one configuration value: a flag with a matching environment
// variable. A flag given on the command line wins over the variable.
type setting struct {
	flag  string
	env   string
	usage string
	def   string
	set   func(string) error
}

// settings is the list of a command's settings, in help order.
type settings struct {
	fs   *flag.FlagSet
	list []*setting
	// footer ends the usage text.
	footer string
	// synopsis, when set, follows "Usage: herald" instead of the command's
	// name and "[flags]"; about, when set, follows the usage line.
	synopsis, about string
}

func newSettings(name string, out io.Writer) *settings {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return &settings{fs: fs}
}

func (s *settings) add(st *setting) {
	s.list = append(s.list, st)
	s.fs.Func(st.flag, st.usage, st.set)
}

func (s *settings) String(p *string, name, env, def, usage string) {
	*p = def
	s.add(&setting{flag: name, env: env, usage: usage, def: def, set: func(v string) error { *p = v; return nil }})
}

func (s *settings) Bool(p *bool, name, env string, def bool, usage string) {
	*p = def
	st := &setting{flag: name, env: env, usage: usage, def: strconv.FormatBool(def), set: func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		*p = b
		return nil
	}}
	s.list = append(s.list, st)
	s.fs.BoolFunc(name, usage, st.set)
}

func (s *settings) Int(p *int, name, env string, def int, usage string) {
	*p = def
	s.add(&setting{flag: name, env: env, usage: usage, def: strconv.Itoa(def), set: func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want an integer")
		}
		*p = n
		return nil
	}})
}

func (s *settings) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	*p = def
	s.add(&setting{flag: name, env: env, usage: usage, def: def.String(), set: func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration such as 30s")
		}
		*p = d
		return nil
	}})
}

// parse reads the command line, then the environment for every setting the
// command line left out.
func (s *settings) parse(args []string, getenv func(string) string) error {
	rest, err := s.parseArgs(args, getenv)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	return err
}

// parseArgs is parse for a command that takes arguments besides its flags,
// which it returns: flags may come before, between and after them (all
// that follows "--" is arguments).
func (s *settings) parseArgs(args []string, getenv func(string) string) ([]string, error) {
	s.fs.Usage = func() { s.usage(s.fs.Output()) }
	var rest []string
	for {
		if err := s.fs.Parse(args); err != nil {
			return nil, err
		}
		left := s.fs.Args()
		if len(left) == 0 {
			break
		}
		if consumed := args[:len(args)-len(left)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			rest = append(rest, left...)
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	return rest, s.readEnv(getenv)
}

// readEnv sets every setting that the command line left out from its
// environment variable, if set.
func (s *settings) readEnv(getenv func(string) string) error {
	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, st := range s.list {
		if given[st.flag] || st.env == "" {
			continue
		}
		if v, ok := lookup(getenv, st.env); ok {
			if err := st.set(v); err != nil {
				return fmt.Errorf("%s=%q: %w", st.env, v, err)
			}
		}
	}
	return nil
}

// given reports whether the command line set flag name.
func (s *settings) given(name string) bool {
	found := false
	s.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

func lookup(getenv func(string) string, name string) (string, bool) {
	if getenv == nil {
		return os.LookupEnv(name)
	}
	v := getenv(name)
	return v, v != ""
}

func (s *settings) usage(w io.Writer) {
	synopsis := s.fs.Name() + " [flags]"
	if s.synopsis != "" {
		synopsis = s.synopsis
	}
	fmt.Fprintf(w, "Usage: herald %s\n\n", synopsis)
	if s.about != "" {
		fmt.Fprintf(w, "%s\n\n", s.about)
	}
	if slices.ContainsFunc(s.list, func(st *setting) bool { return st.env == "" }) {
		fmt.Fprintf(w, "Flags (those with a variable beside them can also be set through it):\n")
	} else {
		fmt.Fprintf(w, "Flags (each also read from its environment variable):\n")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, st := range s.list {
		def := st.def
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(tw, "  --%s\t%s\tdefault %s\n\t\t%s\n", st.flag, st.env, def, strings.ReplaceAll(st.usage, "\n", "\n\t\t"))
	}
	tw.Flush()
	if s.footer != "" {
		fmt.Fprintf(w, "\n%s\n", s.footer)
	}
}
