package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/herald-sched/herald/deploy/nginx"
)

const (
	// balancerStartTimeout bounds nginx's start until it accepts connections.
	balancerStartTimeout = 10 * time.Second
	// balancerStopGrace is how long nginx may take to quit gracefully.
	balancerStopGrace = 10 * time.Second
)

// balancer is Debian's nginx running the shipped deploy/nginx/herald.conf in
// front of the replicas, everything it writes in its own directory.
type balancer struct {
	proc *child
	// addr is the host:port it listens on.
	addr string
	// dir holds its configuration, logs and temporary files.
	dir string
	// version is `nginx -v`'s answer.
	version string
}

// startBalancer renders the shipped configuration for addr and upstreams in
// dir, checks it (nginx -t), starts nginx in the foreground and waits until
// it accepts connections.
func startBalancer(ctx context.Context, dir, addr string, upstreams []string) (*balancer, error) {
	bin, err := nginx.FindBinary()
	if err != nil {
		return nil, err
	}
	conf, err := nginx.Render(nginx.Site{Dir: dir, Listen: addr, Upstreams: upstreams})
	if err != nil {
		return nil, err
	}
	if err := nginx.Test(ctx, bin, conf); err != nil {
		return nil, err
	}
	b := &balancer{addr: addr, dir: dir}
	if out, err := exec.CommandContext(ctx, bin, "-v").CombinedOutput(); err == nil {
		b.version = strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version: nginx/")
	}
	cmd := exec.Command(bin, nginx.Args(conf, "-g", "daemon off;")...)
	if b.proc, err = startChild(cmd); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(balancerStartTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return b, nil
		}
		if b.proc.Exited() || time.Now().After(deadline) {
			_ = b.Close()
			return nil, fmt.Errorf("nginx did not start listening on %s: see %s", addr, filepath.Join(dir, "error.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is the base URL clients use.
func (b *balancer) URL() string { return "http://" + b.addr }

// Retried counts the requests nginx tried on more than one replica (their
// access log lists several upstreams), from its access log.
func (b *balancer) Retried() (int, error) {
	f, err := os.Open(filepath.Join(b.dir, "access.log"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, after, ok := strings.Cut(sc.Text(), " upstream=")
		if !ok {
			continue
		}
		upstreams, _, _ := strings.Cut(after, " upstream_status=")
		if strings.Contains(upstreams, ",") {
			n++
		}
	}
	return n, sc.Err()
}

// Close stops nginx gracefully (SIGQUIT).
func (b *balancer) Close() error {
	return b.proc.Stop(syscall.SIGQUIT, balancerStopGrace)
}
