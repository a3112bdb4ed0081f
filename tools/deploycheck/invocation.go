package deploycheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Invocation is what a container runs, resolved as herald will see it.
type Invocation struct {
	// Argv is the container's command line: its command (or else the
	// image's ENTRYPOINT), then its args.
	Argv []string
	// Command is herald's subcommand: serve, migrate, ...
	Command string
	// Flags are the flags on the command line by name ("true" for a bare
	// boolean flag).
	Flags map[string]string
	// Env is the container's environment as far as the manifests and the
	// image say: the image's ENV, overridden by envFrom, overridden by env.
	Env map[string]EnvValue
	// Settings are the command's settings (from its --help).
	Settings Settings
}

// EnvValue is an environment variable's value, or the Secret key it comes
// from (whose value the manifests do not hold).
type EnvValue struct {
	Value       string
	Secret, Key string
}

// Resolve works out what container c runs: imageEnv and entrypoint are the
// image's ENV and ENTRYPOINT, settings herald's commands' settings by
// command. A ConfigMap the container reads must exist in m (a missing
// optional one is skipped); Secrets are only named, checked by
// MissingReferences.
func Resolve(c corev1.Container, m *Manifests, imageEnv map[string]string, entrypoint []string, settings map[string]Settings) (*Invocation, error) {
	inv := &Invocation{Flags: map[string]string{}, Env: map[string]EnvValue{}}
	if len(c.Command) > 0 {
		inv.Argv = append(slices.Clone(c.Command), c.Args...)
	} else {
		inv.Argv = append(slices.Clone(entrypoint), c.Args...)
	}
	if len(inv.Argv) < 2 || inv.Argv[0] != ImageBinary {
		return nil, fmt.Errorf("container %s runs %q, not %s <command>", c.Name, inv.Argv, ImageBinary)
	}
	inv.Command = inv.Argv[1]
	var ok bool
	if inv.Settings, ok = settings[inv.Command]; !ok {
		return nil, fmt.Errorf("container %s: herald has no command %q (known: %v)", c.Name, inv.Command, slices.Sorted(maps.Keys(settings)))
	}
	if err := inv.parseFlags(inv.Argv[2:]); err != nil {
		return nil, fmt.Errorf("container %s: %w", c.Name, err)
	}
	for k, v := range imageEnv {
		inv.Env[k] = EnvValue{Value: v}
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := m.ConfigMap(from.ConfigMapRef.Name)
			if cm == nil {
				if from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
					continue
				}
				return nil, fmt.Errorf("container %s: envFrom ConfigMap %q does not exist", c.Name, from.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				inv.Env[from.Prefix+k] = EnvValue{Value: v}
			}
		case from.SecretRef != nil:
			keys, ok := m.SecretKeys(from.SecretRef.Name)
			if !ok {
				return nil, fmt.Errorf("container %s: envFrom Secret %q: its keys are unknown (no such Secret)", c.Name, from.SecretRef.Name)
			}
			for k := range keys {
				inv.Env[from.Prefix+k] = EnvValue{Secret: from.SecretRef.Name, Key: k}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			inv.Env[e.Name] = EnvValue{Value: e.Value}
		case e.ValueFrom.SecretKeyRef != nil:
			inv.Env[e.Name] = EnvValue{Secret: e.ValueFrom.SecretKeyRef.Name, Key: e.ValueFrom.SecretKeyRef.Key}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := m.ConfigMap(ref.Name)
			v, ok := "", false
			if cm != nil {
				v, ok = cm.Data[ref.Key]
			}
			if !ok {
				return nil, fmt.Errorf("container %s: %s: ConfigMap %q has no key %q", c.Name, e.Name, ref.Name, ref.Key)
			}
			inv.Env[e.Name] = EnvValue{Value: v}
		default:
			return nil, fmt.Errorf("container %s: %s: only values, secretKeyRef and configMapKeyRef are understood", c.Name, e.Name)
		}
	}
	return inv, nil
}

// parseFlags reads the command line as Go's flag package does: -name or
// --name, a value after = or as the next argument (booleans take only =),
// up to the first argument that is not a flag. herald refuses arguments
// after its flags, and so does this.
func (inv *Invocation) parseFlags(args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return fmt.Errorf("herald %s refuses the argument %q", inv.Command, a)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		st, ok := inv.Settings[name]
		if !ok {
			return fmt.Errorf("herald %s has no flag --%s", inv.Command, name)
		}
		switch {
		case hasValue:
		case st.IsBool():
			value = "true"
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return fmt.Errorf("--%s needs a value", name)
		}
		inv.Flags[name] = value
	}
	return nil
}

// Get returns a setting's value as herald resolves it: the flag, else its
// environment variable (herald ignores an empty one), else the default.
// fromSecret is true when the value comes from a Secret, and value is then
// empty.
func (inv *Invocation) Get(flag string) (value string, fromSecret bool) {
	st, ok := inv.Settings[flag]
	if !ok {
		panic("herald " + inv.Command + " has no setting " + flag)
	}
	if v, ok := inv.Flags[flag]; ok {
		return v, false
	}
	if e, ok := inv.Env[st.Env]; ok {
		if e.Secret != "" {
			return "", true
		}
		if e.Value != "" {
			return e.Value, false
		}
	}
	return st.Default, false
}

// UnknownVariables are the HERALD_* variables of the environment that the
// command has no setting for: a misspelt name herald would ignore.
func (inv *Invocation) UnknownVariables() []string {
	var out []string
	for k := range inv.Env {
		if strings.HasPrefix(k, "HERALD_") {
			if _, ok := inv.Settings.ByEnv(k); !ok {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// MissingReferences lists what the pod refers to and the manifests do not
// hold: Secrets and their keys, ConfigMaps and their keys (optional
// references excepted).
func MissingReferences(spec corev1.PodSpec, m *Manifests) []string {
	var out []string
	secretKey := func(where, name, key string, optional *bool) {
		if optional != nil && *optional {
			return
		}
		keys, ok := m.SecretKeys(name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: Secret %q does not exist", where, name))
		case key != "" && !keys[key]:
			out = append(out, fmt.Sprintf("%s: Secret %q has no key %q (it has %v)", where, name, key, slices.Sorted(maps.Keys(keys))))
		}
	}
	configKey := func(where, name, key string, optional *bool) {
		if optional != nil && *optional {
			return
		}
		cm := m.ConfigMap(name)
		switch {
		case cm == nil:
			out = append(out, fmt.Sprintf("%s: ConfigMap %q does not exist", where, name))
		case key != "":
			if _, ok := cm.Data[key]; !ok {
				out = append(out, fmt.Sprintf("%s: ConfigMap %q has no key %q", where, name, key))
			}
		}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, from := range c.EnvFrom {
			if r := from.SecretRef; r != nil {
				secretKey(c.Name+" envFrom", r.Name, "", r.Optional)
			}
			if r := from.ConfigMapRef; r != nil {
				configKey(c.Name+" envFrom", r.Name, "", r.Optional)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				secretKey(c.Name+" "+e.Name, r.Name, r.Key, r.Optional)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				configKey(c.Name+" "+e.Name, r.Name, r.Key, r.Optional)
			}
		}
	}
	for _, v := range spec.Volumes {
		if s := v.Secret; s != nil {
			secretKey("volume "+v.Name, s.SecretName, "", s.Optional)
		}
		if c := v.ConfigMap; c != nil {
			configKey("volume "+v.Name, c.Name, "", c.Optional)
		}
	}
	return out
}
