package main

import (
	"flag"
	"fmt"
	"io"
	"os"
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
	s.fs.Usage = func() { s.usage(s.fs.Output()) }
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	if s.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", s.fs.Arg(0))
	}
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

func lookup(getenv func(string) string, name string) (string, bool) {
	if getenv == nil {
		return os.LookupEnv(name)
	}
	v := getenv(name)
	return v, v != ""
}

func (s *settings) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: herald %s [flags]\n\nFlags (each also read from its environment variable):\n", s.fs.Name())
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
