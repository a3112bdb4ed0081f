// Package nginx holds herald's nginx configuration, herald.conf and the
// example list of replicas herald-upstreams.conf, embedded as shipped, and
// renders it for a run on one machine: the shipped herald.conf with only its
// listen address changed, the replicas' addresses written into the lines of
// the shipped example (their parameters kept), and a main configuration
// around them that keeps every file nginx writes in one directory.
// `make chaos` runs nginx on it; a test runs `nginx -t` on it.
package nginx

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

const (
	// SiteFile is the name of the shipped configuration.
	SiteFile = "herald.conf"
	// UpstreamsFile is the name of the list of replicas it includes.
	UpstreamsFile = "herald-upstreams.conf"
	// MainFile is the main configuration Render writes around SiteFile.
	MainFile = "nginx.conf"
	// DefaultWorkerProcesses is Site.WorkerProcesses's default.
	DefaultWorkerProcesses = 1
	// debianBinary is where Debian's nginx package installs nginx, which
	// is not on an ordinary user's PATH.
	debianBinary = "/usr/sbin/nginx"
)

// ErrNoNginx is returned, wrapped, by FindBinary when nginx is not installed.
var ErrNoNginx = errors.New("nginx not found on PATH or at " + debianBinary +
	": install it (Debian/Ubuntu: apt-get install nginx)")

var (
	//go:embed herald.conf
	shippedSite string
	//go:embed herald-upstreams.conf
	shippedUpstreams string

	// listenLine matches a listen directive on a line of its own.
	listenLine = regexp.MustCompile(`(?m)^([ \t]*)listen[ \t]+[^;]*;[ \t]*$`)
	// serverLine matches a server line of the upstreams list: its address,
	// then its parameters.
	serverLine = regexp.MustCompile(`(?m)^[ \t]*server[ \t]+(\S+)([^;]*);[ \t]*$`)
)

// Site is where and how Render writes the configuration.
type Site struct {
	// Dir receives the configuration files, nginx's logs, pid file and
	// temporary files. When nginx runs as root its workers run as nobody,
	// so Render makes Dir enterable by everyone (mode 0755). Required.
	Dir string
	// Listen is the address the server listens on, such as 127.0.0.1:8080.
	// Required.
	Listen string
	// Upstreams are the replicas' host:port addresses, one server line
	// each. Required.
	Upstreams []string
	// WorkerProcesses is nginx's worker_processes. Optional:
	// DefaultWorkerProcesses.
	WorkerProcesses int
}

// Render writes the configuration of site into site.Dir and returns the path
// of its main file, for nginx -c.
func Render(site Site) (string, error) {
	if site.Dir == "" || site.Listen == "" || len(site.Upstreams) == 0 {
		return "", errors.New("nginx: Render needs a directory, a listen address and at least one upstream")
	}
	if site.WorkerProcesses == 0 {
		site.WorkerProcesses = DefaultWorkerProcesses
	}
	conf, err := renderSite(shippedSite, site.Listen)
	if err != nil {
		return "", err
	}
	upstreams, err := renderUpstreams(shippedUpstreams, site.Upstreams)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(site.Dir, 0o755); err != nil {
		return "", fmt.Errorf("nginx: %w", err)
	}
	if err := os.Chmod(site.Dir, 0o755); err != nil {
		return "", fmt.Errorf("nginx: %w", err)
	}
	files := map[string]string{
		SiteFile:      conf,
		UpstreamsFile: upstreams,
		MainFile:      mainConf(site.Dir, site.WorkerProcesses),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(site.Dir, name), []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("nginx: %w", err)
		}
	}
	return filepath.Join(site.Dir, MainFile), nil
}

// renderSite returns the shipped site with its one listen directive
// listening on listen instead.
func renderSite(shipped, listen string) (string, error) {
	if n := len(listenLine.FindAllString(shipped, -1)); n != 1 {
		return "", fmt.Errorf("nginx: %s has %d listen lines, want exactly one to render", SiteFile, n)
	}
	return listenLine.ReplaceAllString(shipped, "${1}listen "+listen+";"), nil
}

// renderUpstreams returns one server line per address, each with the
// parameters of the shipped example's lines in turn.
func renderUpstreams(shipped string, addrs []string) (string, error) {
	lines := serverLine.FindAllStringSubmatch(shipped, -1)
	if len(lines) == 0 {
		return "", fmt.Errorf("nginx: %s has no server line to render", UpstreamsFile)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Rendered from the shipped %s: its parameters, these addresses.\n", UpstreamsFile)
	for i, addr := range addrs {
		fmt.Fprintf(&b, "server %s%s;\n", addr, lines[i%len(lines)][2])
	}
	return b.String(), nil
}

// mainConf is a main configuration that includes the site and keeps every
// file nginx writes under dir.
func mainConf(dir string, workers int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Rendered by herald's deploy/nginx package around the shipped %s.\n", SiteFile)
	fmt.Fprintf(&b, "worker_processes %d;\n", workers)
	fmt.Fprintf(&b, "pid %s;\n", filepath.Join(dir, "nginx.pid"))
	fmt.Fprintf(&b, "error_log %s notice;\n", filepath.Join(dir, "error.log"))
	b.WriteString("events {\n    worker_connections 1024;\n}\nhttp {\n")
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", kind, filepath.Join(dir, "temp-"+kind))
	}
	fmt.Fprintf(&b, "    include %s;\n", SiteFile)
	fmt.Fprintf(&b, "    access_log %s herald_upstream;\n", filepath.Join(dir, "access.log"))
	b.WriteString("}\n")
	return b.String()
}

// FindBinary returns the nginx binary: on PATH, else Debian's.
func FindBinary() (string, error) {
	if path, err := exec.LookPath("nginx"); err == nil {
		return path, nil
	}
	if fi, err := os.Stat(debianBinary); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return debianBinary, nil
	}
	return "", fmt.Errorf("nginx: %w", ErrNoNginx)
}

// Args are nginx's arguments to run the configuration whose main file is
// conf, with its prefix and startup error log beside it, then extra (such as
// "-t", or "-g", "daemon off;").
func Args(conf string, extra ...string) []string {
	dir := filepath.Dir(conf)
	return append([]string{"-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}, extra...)
}

// Test runs nginx -t on the configuration whose main file is conf.
func Test(ctx context.Context, bin, conf string) error {
	out, err := exec.CommandContext(ctx, bin, Args(conf, "-t")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t: %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
