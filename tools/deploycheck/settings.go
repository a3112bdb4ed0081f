package deploycheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// Setting is one of a herald command's settings, as its --help lists it: a
// flag, the environment variable that sets it too, and its default.
type Setting struct {
	Flag    string
	Env     string
	Default string
}

// Settings are a command's settings by flag name (without dashes).
type Settings map[string]Setting

// ReadSettings runs `bin command --help` and reads the settings it lists
// (lines "  --flag  VARIABLE  default VALUE"; "(none)" is the empty default).
func ReadSettings(bin, command string) (Settings, error) {
	out, err := exec.Command(bin, command, "--help").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s %s --help: %w\n%s", bin, command, err, out)
	}
	s := Settings{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "  --") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] != "default" {
			return nil, fmt.Errorf("%s %s --help: cannot read %q", bin, command, line)
		}
		st := Setting{Flag: strings.TrimPrefix(fields[0], "--"), Env: fields[1], Default: strings.Join(fields[3:], " ")}
		if st.Default == "(none)" {
			st.Default = ""
		}
		s[st.Flag] = st
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("%s %s --help lists no settings:\n%s", bin, command, out)
	}
	return s, nil
}

// ByEnv returns the setting the environment variable sets.
func (s Settings) ByEnv(name string) (Setting, bool) {
	for _, st := range s {
		if st.Env == name {
			return st, true
		}
	}
	return Setting{}, false
}

// IsBool reports whether the setting is a boolean (its default is true or
// false), which a bare --flag sets.
func (st Setting) IsBool() bool { return st.Default == "true" || st.Default == "false" }
