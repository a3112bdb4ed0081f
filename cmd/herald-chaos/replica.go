package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// listeningPrefix starts the line `herald serve` prints on stdout once
	// it accepts requests.
	listeningPrefix = "herald listening on "
	// riverStarted is the message River logs, with the client's id, when a
	// replica's River client starts: the id River records in
	// river_job.attempted_by for every job the replica fetches.
	riverStarted = "River client started"
	// replicaStartTimeout bounds a replica's start until /readyz answers 200.
	replicaStartTimeout = time.Minute
	// replicaStopGrace is how long a SIGTERMed replica may take to exit
	// before it is killed: its shutdown timeout (replicaFlags) and more.
	replicaStopGrace = 20 * time.Second
	// readyPoll is how often /readyz is asked while a replica starts.
	readyPoll = 100 * time.Millisecond
)

// replica is one of the three `herald serve` slots behind nginx: a fixed
// loopback port, and the process running there now (restarted after a kill,
// replaced in the rolling restart).
type replica struct {
	// n numbers the slot from 1.
	n int
	// addr is the slot's host:port.
	addr string
	// bin, args and env start the process.
	bin  string
	args []string
	env  []string
	// logPath receives every process's log (JSON, level info), appended.
	logPath string
	// onCrash, if set, is called when a process exits that the suite did
	// not kill or stop.
	onCrash func(n int, p *replicaProcess)

	mu sync.Mutex
	// proc is the process now in the slot; nil while none runs.
	proc *replicaProcess
}

// replicaProcess is one process of a slot.
type replicaProcess struct {
	*child
	// startedAt is when it was started, readyAt when /readyz first said 200.
	startedAt, readyAt time.Time
	// expected is set once the suite has killed or stopped it: its exit
	// is not a crash.
	expected atomic.Bool
	// clientIDs are its River client ids, read from its log.
	mu        sync.Mutex
	clientIDs []string
}

// ClientIDs returns the River client ids the process logged.
func (p *replicaProcess) ClientIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.clientIDs...)
}

// Start starts a process in the slot and waits until /readyz answers 200.
func (r *replica) Start(ctx context.Context) (*replicaProcess, error) {
	logFile, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "{\"time\":%q,\"chaos\":\"replica %d starting\"}\n", time.Now().Format(time.RFC3339Nano), r.n)
	p := &replicaProcess{startedAt: time.Now()}
	cmd := exec.Command(r.bin, append([]string{"serve"}, r.args...)...)
	cmd.Env = r.env
	cmd.Stdout = io.Discard
	// A writer, not a pipe: the process's exit is noticed only once all of
	// its log has been read.
	cmd.Stderr = &logLines{out: logFile, line: p.noteLine}
	if p.child, err = startChild(cmd); err != nil {
		return nil, errors.Join(err, logFile.Close())
	}
	go func() {
		<-p.exited
		_ = logFile.Close()
		if !p.expected.Load() && r.onCrash != nil {
			r.onCrash(r.n, p)
		}
	}()
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
	if err := r.waitReady(ctx, p); err != nil {
		p.expected.Store(true)
		return nil, errors.Join(err, p.Kill())
	}
	return p, nil
}

// noteLine notes the River client id a log line announces.
func (p *replicaProcess) noteLine(line []byte) {
	var entry struct {
		Msg      string `json:"msg"`
		ClientID string `json:"client_id"`
	}
	if json.Unmarshal(line, &entry) == nil && entry.Msg == riverStarted && entry.ClientID != "" {
		p.mu.Lock()
		p.clientIDs = append(p.clientIDs, entry.ClientID)
		p.mu.Unlock()
	}
}

// logLines copies a process's log to out and hands each complete line to line.
type logLines struct {
	out     io.Writer
	line    func([]byte)
	partial []byte
}

// Write copies p and calls line for every line it completes.
func (l *logLines) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	_, err := l.out.Write(p)
	return len(p), err
}

// waitReady polls /readyz until it answers 200, the process exits, or
// replicaStartTimeout passes.
func (r *replica) waitReady(ctx context.Context, p *replicaProcess) error {
	ctx, cancel := context.WithTimeout(ctx, replicaStartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.addr+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.readyAt = time.Now()
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("replica %d exited while starting (%v): see %s", r.n, p.waitErr, r.logPath)
		case <-ctx.Done():
			return fmt.Errorf("replica %d not ready within %s: see %s", r.n, replicaStartTimeout, r.logPath)
		case <-tick.C:
		}
	}
}

// Process returns the process now in the slot, nil if none.
func (r *replica) Process() *replicaProcess {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc
}

// Kill SIGKILLs the slot's process and returns it, gone.
func (r *replica) Kill() (*replicaProcess, error) {
	p := r.take()
	if p == nil {
		return nil, fmt.Errorf("replica %d is not running", r.n)
	}
	return p, p.Kill()
}

// Stop SIGTERMs the slot's process and waits for it to exit.
func (r *replica) Stop() (*replicaProcess, error) {
	p := r.take()
	if p == nil {
		return nil, nil
	}
	return p, p.Stop(syscall.SIGTERM, replicaStopGrace)
}

// take empties the slot and marks its process's coming exit as expected.
func (r *replica) take() *replicaProcess {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.proc
	r.proc = nil
	if p != nil {
		p.expected.Store(true)
	}
	return p
}

// replicaEnv is a replica's environment: the suite's own without herald's,
// OpenTelemetry's and the database's variables, plus the run's settings.
func replicaEnv(addr, databaseURL, apiKey string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "HERALD_") || strings.HasPrefix(name, "OTEL_") || name == "DATABASE_URL" || name == "TEST_DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"DATABASE_URL="+databaseURL,
		"HERALD_ADDR="+addr,
		"HERALD_API_KEY="+apiKey,
		"HERALD_ALLOWED_TARGET_NETWORKS=127.0.0.0/8",
		"HERALD_LOG_FORMAT=json",
		"HERALD_LOG_LEVEL=info",
	)
}

// replicaLogPath is the log file of slot n in dir.
func replicaLogPath(dir string, n int) string {
	return filepath.Join(dir, fmt.Sprintf("replica-%d.log", n))
}
