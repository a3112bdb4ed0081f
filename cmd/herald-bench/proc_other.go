//go:build !linux

package main

import "syscall"

// childProcAttr leaves a child in the benchmark's process group: outside
// Linux, the benchmark stops its children itself but the terminal's Ctrl-C
// reaches them too.
func childProcAttr() *syscall.SysProcAttr { return nil }
