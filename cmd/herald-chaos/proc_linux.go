package main

import "syscall"

// childProcAttr puts a child (herald, nginx) in its own process group, so
// that a Ctrl-C meant for the suite does not reach it before the suite stops
// it in order, and has the kernel kill it if the suite dies first.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
