package replica

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"syscall"
)

// NewID returns a new registration id: the host name (shortened) and 8
// random hex digits, unique among the replicas of a database and readable
// in River's attempted_by.
func NewID(host string) string {
	if host == "" {
		host = hostname()
	}
	if len(host) > 60 {
		host = host[:60]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "herald"
	}
	return h
}

// processScope identifies where this process's pid means something: the
// machine's boot (boot_id changes at every boot, and differs between
// machines) and the PID namespace. Empty where it cannot be read: then no
// predecessor is ever declared dead by its pid.
func processScope() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "/" + ns
}

// processGone reports whether no process with pid exists in this PID
// namespace. A process that exists but is not ours (EPERM) is not gone.
func processGone(pid int) bool {
	if pid <= 0 || pid == os.Getpid() {
		return false
	}
	err := syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}
