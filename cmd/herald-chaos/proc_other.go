//go:build !linux

package main

import "syscall"

// childProcAttr leaves a child in the suite's process group: outside Linux
// the suite still stops its children itself, but Ctrl-C reaches them too.
func childProcAttr() *syscall.SysProcAttr { return nil }
