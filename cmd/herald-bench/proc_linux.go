package main

import "syscall"

// childProcAttr puts a child in its own process group, and has the kernel
// kill it if the benchmark dies without stopping it.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
