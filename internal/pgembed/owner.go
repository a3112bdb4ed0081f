package pgembed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ownerFile, in the data directory, records which process owns the running
// server: that process holds an flock on it for as long as it does, and wrote
// its PID into it. The kernel releases the lock when the process dies, so a
// Start that finds the server running and the file unlocked knows that the
// process that started it exited without stopping it, and adopts the server.
// Only Start and Stop touch the file, each holding the data directory's lock.
const ownerFile = "herald.owner"

// claimOwner creates the owner file and locks it. It reports false when a
// live process holds the lock still: one whose server stopped without it.
func claimOwner(dataDir string, acct account) (*os.File, bool, error) {
	path := filepath.Join(dataDir, ownerFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("pgembed: record the server's owner: %w", err)
	}
	if err := acct.own(path); err != nil {
		_ = f.Close()
		return nil, false, err
	}
	return lockOwner(f)
}

// adoptOwner locks the owner file of a running server if its owner died. It
// reports false when the owner lives, or when no herald process started the
// server (there is no owner file): such a server is left alone.
func adoptOwner(dataDir string) (*os.File, bool, error) {
	f, err := os.OpenFile(filepath.Join(dataDir, ownerFile), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pgembed: read the server's owner: %w", err)
	}
	return lockOwner(f)
}

// lockOwner takes the lock on the owner file f without waiting and writes
// this process's PID into it. It reports false, and closes f, when another
// process holds the lock.
func lockOwner(f *os.File) (*os.File, bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, false, f.Close()
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close()
		return nil, false, fmt.Errorf("pgembed: record the server's owner in %s: %w", f.Name(), err)
	}
	return f, true, nil
}

// ownerPID is the PID the owner file of a running server names; 0 when it
// names none (no herald process started the server, or the file is
// unreadable).
func ownerPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, ownerFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// InUseError is Start refusing, with Config.Exclusive, a server that
// another live process runs in the data directory.
type InUseError struct {
	DataDir string
	// PID is the process that runs it; 0 when not known.
	PID int
}

func (e *InUseError) Error() string {
	who := "another process"
	if e.PID != 0 {
		who = "another process (pid " + strconv.Itoa(e.PID) + ")"
	}
	return "the data directory " + e.DataDir + " is in use: " + who + " runs its PostgreSQL server"
}

// releaseOwner deletes and unlocks the owner file of a stopped server.
func releaseOwner(f *os.File) error {
	err := os.Remove(f.Name())
	return errors.Join(err, f.Close())
}
