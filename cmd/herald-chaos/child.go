package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// child is a process the suite started (a herald replica, nginx) and waits
// for in the background.
type child struct {
	cmd *exec.Cmd
	// exited is closed once the process has exited and its output has been
	// copied; waitErr is then its exit status.
	exited  chan struct{}
	waitErr error
}

// startChild starts cmd in its own process group and reaps it when it exits.
func startChild(cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// PID is the process's id.
func (c *child) PID() int { return c.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (c *child) Exited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL and waits until the process is gone.
func (c *child) Kill() error {
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-c.exited
	return nil
}

// Stop sends sig (SIGTERM, SIGQUIT) and waits up to grace for the exit, then
// kills the process. It reports an error when the process had to be killed.
func (c *child) Stop(sig syscall.Signal, grace time.Duration) error {
	if c.Exited() {
		return nil
	}
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-c.exited:
		return nil
	case <-timer.C:
	}
	if err := c.Kill(); err != nil {
		return err
	}
	return fmt.Errorf("%s did not exit within %s of %s: killed", c.cmd.Path, grace, sig)
}
