package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	// listeningPrefix starts the line `herald serve` prints on stdout once
	// it accepts requests.
	listeningPrefix = "herald listening on "
	// startTimeout bounds a herald start: migrations of a fresh database
	// and the River client's start.
	startTimeout = 60 * time.Second
	// stopTimeout is how long a herald may take to exit after SIGTERM
	// before it is killed; it exceeds the shutdown timeout it is given.
	stopTimeout = 15 * time.Second
)

// heraldConfig is how one herald process is started.
type heraldConfig struct {
	// bin is the herald binary.
	bin string
	// env is the process's environment (DATABASE_URL, HERALD_*).
	env []string
	// stderr receives its log.
	stderr io.Writer
}

// heraldProcess is a running `herald serve`.
type heraldProcess struct {
	cmd *exec.Cmd
	// addr is the host:port it listens on.
	addr string
	// exited is closed when the process has exited; waitErr is then set.
	exited  chan struct{}
	waitErr error
}

// startHerald starts `herald serve` and waits until it listens. The process
// runs in its own process group, so that a Ctrl-C meant for the benchmark
// does not reach it: the benchmark stops it itself, in order.
func startHerald(ctx context.Context, cfg heraldConfig) (*heraldProcess, error) {
	cmd := exec.Command(cfg.bin, "serve")
	cmd.Env = cfg.env
	cmd.Stderr = cfg.stderr
	cmd.SysProcAttr = childProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start herald: %w", err)
	}
	h := &heraldProcess{cmd: cmd, exited: make(chan struct{})}
	addrs := make(chan string, 1)
	go scanListening(stdout, addrs)
	go func() {
		h.waitErr = cmd.Wait()
		close(h.exited)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case h.addr = <-addrs:
		return h, nil
	case <-h.exited:
		return nil, fmt.Errorf("herald exited before listening: %v", h.waitErr)
	case <-timer.C:
		return nil, errors.Join(fmt.Errorf("herald did not listen within %s", startTimeout), h.Stop())
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), h.Stop())
	}
}

// scanListening reads herald's stdout, sends the address of its listening
// line to addrs, and keeps draining until the pipe closes.
func scanListening(stdout io.Reader, addrs chan<- string) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), listeningPrefix); ok {
			select {
			case addrs <- strings.TrimSpace(addr):
			default:
			}
		}
	}
}

// BaseURL is the URL of its HTTP server.
func (h *heraldProcess) BaseURL() string { return "http://" + h.addr }

// PID is its process id.
func (h *heraldProcess) PID() int { return h.cmd.Process.Pid }

// Stop sends SIGTERM and waits for the exit, killing the process if it
// takes longer than stopTimeout. Calling it again only waits.
func (h *heraldProcess) Stop() error {
	select {
	case <-h.exited:
		return nil
	default:
	}
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop herald: %w", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-h.exited:
		return nil
	case <-timer.C:
	}
	if err := h.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill herald: %w", err)
	}
	<-h.exited
	return fmt.Errorf("herald did not exit within %s of SIGTERM: killed", stopTimeout)
}
