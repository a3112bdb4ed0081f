package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// replicaCount is how many herald replicas run behind nginx.
const replicaCount = 3

// errAuditFailed is returned when the audit found a loss or a defect.
var errAuditFailed = errors.New("the audit failed (see the table)")

// suite is one run: what it started, what it did, and what it saw.
type suite struct {
	opts   options
	logger *slog.Logger
	// begin is when the run began, loadStart when the load did.
	begin, loadStart time.Time
	// dir is the work directory: herald's binary, the embedded database,
	// nginx's configuration and every log.
	dir string

	db       *database
	receiver *receiver
	replicas []*replica
	lb       *balancer
	api      *apiClient
	load     *loadDriver
	answers  *answerCounter
	ledger   *ledger
	// heraldFlags are the replicaFlags the herald knows, as passed;
	// missingFlags those it does not.
	heraldFlags, missingFlags []string
	// settled reports whether the history became quiet within the bound,
	// settleTook how long the wait took.
	settled    bool
	settleTook time.Duration

	mu      sync.Mutex
	events  []event
	kills   []killRecord
	crashes []string
}

// chaos runs the suite: the table and its Markdown on stdout, the JSON at
// opts.jsonPath when set, the progress log on stderr. It returns
// errAuditFailed when the audit found a loss or a defect.
func chaos(ctx context.Context, opts options, stdout, stderr io.Writer) (err error) {
	s := &suite{
		opts:    opts,
		logger:  slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: opts.logLevel})),
		begin:   time.Now(),
		answers: newAnswerCounter(phaseSteady),
		ledger:  newLedger(),
	}
	passed := false
	defer func() { err = errors.Join(err, s.tearDown(passed)) }()
	if err := s.setUp(ctx); err != nil {
		return err
	}
	if err := s.drive(ctx); err != nil {
		return err
	}
	rep, err := s.audit(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := rep.print(stdout); err != nil {
		return err
	}
	if opts.jsonPath != "" {
		if err := rep.writeJSON(opts.jsonPath); err != nil {
			return fmt.Errorf("write %s: %w", opts.jsonPath, err)
		}
	}
	if !rep.Passed {
		return errAuditFailed
	}
	passed = true
	return nil
}

// setUp builds herald and starts the database, the receiver, the replicas
// and nginx.
func (s *suite) setUp(ctx context.Context) (err error) {
	if s.dir, err = os.MkdirTemp("", "herald-chaos-"); err != nil {
		return err
	}
	// PostgreSQL (as postgres, when the suite runs as root) and nginx's
	// workers (as nobody) work in here.
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "work directory", slog.String("dir", s.dir))
	bin, err := buildHerald(ctx, s.opts.heraldBin, s.dir, s.logger)
	if err != nil {
		return err
	}
	if s.heraldFlags, s.missingFlags, err = heraldArgs(ctx, bin); err != nil {
		return fmt.Errorf("herald serve --help: %w", err)
	}
	if len(s.missingFlags) > 0 {
		s.logger.WarnContext(ctx, "this herald lacks flags the suite sets: left out", slog.String("flags", strings.Join(s.missingFlags, ",")))
	}
	if s.db, err = openDatabase(ctx, s.opts.databaseURL, s.dir, s.logger); err != nil {
		return err
	}
	if s.receiver, err = startReceiver(s.opts.slow, s.logger); err != nil {
		return err
	}
	apiKey := strings.ToLower(rand.Text())
	args := append(append([]string(nil), s.heraldFlags...), s.opts.heraldArgs...)
	var upstreams []string
	for n := 1; n <= replicaCount; n++ {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		r := &replica{
			n: n, addr: addr, bin: bin, args: args,
			env:     replicaEnv(addr, s.db.url, apiKey),
			logPath: replicaLogPath(s.dir, n),
			onCrash: s.crashed,
		}
		s.replicas = append(s.replicas, r)
		upstreams = append(upstreams, addr)
		// One at a time: the first applies the migrations.
		if err := s.restart(ctx, r, "started"); err != nil {
			return err
		}
	}
	lbAddr, err := freeAddr()
	if err != nil {
		return err
	}
	if s.lb, err = startBalancer(ctx, filepath.Join(s.dir, "nginx"), lbAddr, upstreams); err != nil {
		return err
	}
	s.record("nginx listening on " + lbAddr + " in front of " + strings.Join(upstreams, ", "))
	s.api = newAPIClient(s.lb.URL(), apiKey, s.opts.opDeadline, s.answers)
	s.load = newLoadDriver(s.opts.load, s.api, s.ledger, s.receiver, s.logger)
	return nil
}

// drive runs the load for the duration with the faults in it, then stops
// it, pauses the cron jobs and waits for the history to settle.
func (s *suite) drive(ctx context.Context) error {
	s.loadStart = time.Now()
	s.record("load started")
	if err := s.load.Start(ctx); err != nil {
		s.load.Stop()
		return fmt.Errorf("load: %w", err)
	}
	faultErr := s.runFaults(ctx)
	if faultErr == nil {
		faultErr = sleep(ctx, max(time.Until(s.loadStart.Add(s.opts.duration)), s.opts.pause))
	}
	s.load.Stop()
	s.record("load stopped")
	if faultErr != nil {
		return faultErr
	}
	s.load.PauseCron(ctx)
	s.record("cron jobs paused")
	begin := time.Now()
	settled, err := waitQuiet(ctx, s.db.pool, s.ledger.LastDue(), s.opts.settle)
	s.settled, s.settleTook = settled, time.Since(begin)
	if err != nil {
		return err
	}
	if settled {
		s.record(fmt.Sprintf("history quiet after %s", s.settleTook.Round(time.Millisecond)))
	} else {
		s.record(fmt.Sprintf("history not quiet after %s: audited as it is", s.opts.settle))
	}
	return nil
}

// tearDown stops everything in order and removes the work directory, unless
// the run failed or -keep asked to keep it.
func (s *suite) tearDown(passed bool) error {
	var errs []error
	if s.api != nil {
		s.api.Close()
	}
	if s.lb != nil {
		errs = append(errs, s.lb.Close())
	}
	for _, r := range s.replicas {
		if _, err := r.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop replica %d: %w", r.n, err))
		}
	}
	if s.receiver != nil {
		if s.dir != "" {
			errs = append(errs, s.receiver.WriteLog(filepath.Join(s.dir, "receiver.jsonl")))
		}
		errs = append(errs, s.receiver.Close())
	}
	keep := s.opts.keep || !passed
	if s.db != nil {
		errs = append(errs, s.db.Close(keep))
	}
	if s.dir == "" {
		return errors.Join(errs...)
	}
	if keep {
		s.logger.Info("kept the work directory (logs of the replicas, nginx, PostgreSQL; receiver.jsonl)", slog.String("dir", s.dir))
	} else {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
