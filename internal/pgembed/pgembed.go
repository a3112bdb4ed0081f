// Package pgembed runs herald's "embedded default" database: a private
// PostgreSQL server started from the server binaries installed on the machine
// (initdb, pg_ctl, postgres), used when no DATABASE_URL is configured.
//
// The server listens on a unix socket only (empty listen_addresses), so it
// never competes for a TCP port. The socket lives in the data directory
// itself or, when that path would exceed the kernel's limit for socket paths
// (107 bytes on Linux), in a directory under os.TempDir() named after a hash
// of the data directory.
//
// Start writes herald's settings to herald.conf in the data directory
// (included from postgresql.conf) at every start, and the server appends its
// log to log/postgresql.log there. herald.owner there records, and locks, the
// process that owns the running server (see Start).
//
// PostgreSQL refuses to run as root: when the process runs as root, initdb and
// pg_ctl run as the "postgres" system user, which then owns the data directory.
// When that user cannot enter a parent of the data directory (a checkout under
// /root, mode 700), the cluster lives under Config.FallbackDir instead
// (/var/lib/herald/embedded/<hash of the data directory>/pg), said in the log.
package pgembed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

const (
	// DefaultDatabase is the database Start creates and connects to when
	// Config.Database is empty.
	DefaultDatabase = "herald"
	// DefaultStartTimeout is Config.StartTimeout's default.
	DefaultStartTimeout = 60 * time.Second
	// Superuser is the PostgreSQL superuser initdb creates; URL connects as it.
	Superuser = "herald"

	// maintenanceDatabase is the database Start connects to in order to
	// create Config.Database.
	maintenanceDatabase = "postgres"
)

// ErrNoBinaries is returned, wrapped, by Start when the PostgreSQL server
// binaries cannot be found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH " +
	"or under /usr/lib/postgresql/*/bin: install them (Debian/Ubuntu: apt-get install postgresql) " +
	"or set DATABASE_URL to an existing server")

// Config describes the embedded server to start.
type Config struct {
	// DataDir is the server's data directory. Start creates it with initdb
	// when it is missing or empty and reuses the cluster it already holds
	// otherwise. A relative path is resolved against the working directory.
	// Required.
	DataDir string
	// BinDir is the directory holding initdb, pg_ctl and postgres. Optional:
	// by default they are looked up on PATH, then in the highest version
	// under /usr/lib/postgresql/*/bin.
	BinDir string
	// Logger receives the server's lifecycle events. Optional: nil discards
	// them.
	Logger *slog.Logger
	// Database is the database Start creates if missing and URL points at.
	// Optional: DefaultDatabase by default.
	Database string
	// Fast turns off fsync, synchronous_commit and full_page_writes: much
	// faster, but a crash of the machine can corrupt the cluster. For tests
	// only.
	Fast bool
	// StartTimeout bounds Start as a whole: waiting for a concurrent Start
	// on the same data directory, initdb, and the server's start-up.
	// Optional: DefaultStartTimeout by default.
	StartTimeout time.Duration
	// FallbackDir is where the cluster lives when the process runs as root
	// and the server's account cannot enter a parent of DataDir (a checkout
	// under /root, mode 700): in <FallbackDir>/<hash of DataDir>/pg, found
	// again at every start from the same DataDir (see Server.DataDir).
	// Optional: DefaultFallbackDir by default.
	FallbackDir string
	// Exclusive refuses a server that another live process started: Start
	// returns an *InUseError instead of attaching to it. A herald server
	// sets it, so that a second one in the same data directory stops with
	// a clear message instead of joining the first one's database.
	Exclusive bool
}

// Server is an embedded PostgreSQL server, started or attached to by Start.
type Server struct {
	ctl    pgctl
	logger *slog.Logger
	// socketDir and port locate the server's unix socket.
	socketDir string
	port      int
	database  string
	// owned reports whether Stop stops the server (see Owned).
	owned bool
	// extraSocketDir is the socket directory Start created outside the data
	// directory, which Stop removes; empty when there is none.
	extraSocketDir string
	// ownerLock is the locked owner file, while owned; nil in the rare case
	// that a live process holds it still (see claimOwner).
	ownerLock *os.File

	mu      sync.Mutex
	stopped bool
}

// Start makes sure a PostgreSQL server runs in cfg.DataDir and that
// cfg.Database exists in it. It initializes the data directory when it holds
// no cluster yet, and starts the server unless one already runs there.
//
// A server already running is attached to, and Stop leaves it running, when
// another live process started it. A server whose starter exited without
// stopping it (it crashed or was killed) is adopted instead: Stop stops it.
// Concurrent Starts on one data directory, in any processes, wait for each
// other.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	binDir, err := findBinaries(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if cfg.DataDir, err = reachableDataDir(ctx, cfg, acct); err != nil {
		return nil, err
	}

	srv, err := startLocked(ctx, cfg, pgctl{binDir: binDir, dataDir: cfg.DataDir, acct: acct, timeout: cfg.StartTimeout})
	if err != nil {
		return nil, err
	}
	if err := ensureDatabase(ctx, srv.urlFor(maintenanceDatabase), cfg.Database); err != nil {
		return nil, errors.Join(err, srv.Stop(context.WithoutCancel(ctx)))
	}
	return srv, nil
}

// resolve fills in cfg's defaults and makes DataDir absolute.
func resolve(cfg Config) (Config, error) {
	if cfg.DataDir == "" {
		return cfg, errors.New("pgembed: Config.DataDir is required")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return cfg, fmt.Errorf("pgembed: data directory %s: %w", cfg.DataDir, err)
	}
	cfg.DataDir = dir
	cfg.Database = cmp.Or(cfg.Database, DefaultDatabase)
	cfg.StartTimeout = cmp.Or(cfg.StartTimeout, DefaultStartTimeout)
	if cfg.FallbackDir, err = filepath.Abs(cmp.Or(cfg.FallbackDir, DefaultFallbackDir)); err != nil {
		return cfg, fmt.Errorf("pgembed: fallback directory: %w", err)
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	return cfg, nil
}

// startLocked prepares the data directory and starts or attaches to its
// server, holding the data directory's lock so that concurrent Starts on the
// same directory do not race to initialize or start it.
func startLocked(ctx context.Context, cfg Config, ctl pgctl) (*Server, error) {
	if err := prepareDataDir(cfg.DataDir, ctl.acct); err != nil {
		return nil, err
	}
	unlock, err := lockDir(ctx, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	srv := &Server{ctl: ctl, logger: cfg.Logger}
	exists, err := hasCluster(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	running := false
	if exists {
		if running, err = ctl.status(ctx); err != nil {
			return nil, err
		}
	}
	if running {
		err = srv.adopt(ctx, cfg.Exclusive)
	} else {
		err = srv.initAndStart(ctx, cfg, exists)
	}
	if err != nil {
		return nil, err
	}
	if err := srv.attach(ctx, cfg.Database); err != nil {
		return nil, errors.Join(err, srv.stopLocked(context.WithoutCancel(ctx)))
	}
	return srv, nil
}

// initAndStart initializes the data directory unless it holds a cluster
// already, writes herald's settings and starts the server.
func (s *Server) initAndStart(ctx context.Context, cfg Config, hasCluster bool) error {
	if !hasCluster {
		begin := time.Now()
		if err := s.ctl.initdb(ctx); err != nil {
			return err
		}
		s.logger.InfoContext(ctx, "initialized PostgreSQL data directory",
			slog.String("data_dir", cfg.DataDir), slog.Duration("took", time.Since(begin)))
	}
	sockDir, err := socketDir(cfg.DataDir)
	if err != nil {
		return err
	}
	if sockDir != cfg.DataDir {
		if err := ensurePrivateDir(sockDir, s.ctl.acct); err != nil {
			return err
		}
		s.extraSocketDir = sockDir
	}
	if err := writeSettings(cfg.DataDir, settings(sockDir, cfg.Fast), s.ctl.acct); err != nil {
		return err
	}
	logFile, err := prepareLogFile(cfg.DataDir, s.ctl.acct)
	if err != nil {
		return err
	}
	begin := time.Now()
	if err := s.ctl.start(ctx, logFile); err != nil {
		// pg_ctl may have given up waiting on a server that still starts.
		return errors.Join(err, s.ctl.stop(context.WithoutCancel(ctx)))
	}
	s.owned = true
	s.logger.InfoContext(ctx, "started embedded PostgreSQL server",
		slog.String("data_dir", cfg.DataDir), slog.String("log", logFile), slog.Duration("took", time.Since(begin)))
	lock, ok, err := claimOwner(cfg.DataDir, s.ctl.acct)
	if err != nil {
		return errors.Join(err, s.stopLocked(context.WithoutCancel(ctx)))
	}
	if !ok {
		s.logger.WarnContext(ctx, "another live process holds the embedded server's owner lock",
			slog.String("file", filepath.Join(cfg.DataDir, ownerFile)))
	}
	s.ownerLock = lock
	return nil
}

// adopt takes ownership of the server running in the data directory if the
// herald process that started it died; otherwise Stop will leave it running,
// or, exclusive, it refuses the server with an *InUseError.
func (s *Server) adopt(ctx context.Context, exclusive bool) error {
	lock, ok, err := adoptOwner(s.ctl.dataDir)
	if err != nil {
		return err
	}
	if !ok && exclusive {
		return &InUseError{DataDir: s.ctl.dataDir, PID: ownerPID(s.ctl.dataDir)}
	}
	if !ok {
		s.logger.InfoContext(ctx, "attaching to the PostgreSQL server another process runs in the data directory",
			slog.String("data_dir", s.ctl.dataDir))
		return nil
	}
	s.owned, s.ownerLock = true, lock
	s.logger.InfoContext(ctx, "adopting the PostgreSQL server left running by a process that exited",
		slog.String("data_dir", s.ctl.dataDir))
	return nil
}

// attach builds the server's URL from its postmaster.pid and waits until it
// accepts connections.
func (s *Server) attach(ctx context.Context, database string) error {
	pid, err := readPostmasterPID(s.ctl.dataDir)
	if err != nil {
		return err
	}
	s.socketDir, s.port, s.database = pid.socketDir, pid.port, database
	return waitReady(ctx, s.urlFor(maintenanceDatabase))
}

// URL returns a libpq URL for the server's database, usable by pgx, of the
// form postgres://herald@/<database>?host=<socket dir>&port=5432&sslmode=disable.
func (s *Server) URL() string { return s.urlFor(s.database) }

// urlFor returns the URL of database on the server.
func (s *Server) urlFor(database string) string {
	q := url.Values{}
	q.Set("host", s.socketDir)
	q.Set("port", strconv.Itoa(s.port))
	q.Set("sslmode", "disable")
	u := url.URL{Scheme: "postgres", User: url.User(Superuser), Path: "/" + database, RawQuery: q.Encode()}
	return u.String()
}

// DataDir is the server's data directory: Config.DataDir made absolute, or
// its stand-in under Config.FallbackDir when the server's account cannot
// reach it.
func (s *Server) DataDir() string { return s.ctl.dataDir }

// Owned reports whether Stop stops the server: Start started it, or adopted
// it from a process that exited, as opposed to attaching to a server that
// another live process runs.
func (s *Server) Owned() bool { return s.owned }

// Stop stops the server (pg_ctl stop -m fast) if it is owned (see Owned)
// and leaves it running otherwise. Calling Stop again after it succeeded does
// nothing.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.owned || s.stopped {
		return nil
	}
	unlock, err := lockDir(ctx, s.ctl.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	return s.stopLocked(ctx)
}

// stopLocked stops the server if it is owned; the caller holds the data
// directory's lock.
func (s *Server) stopLocked(ctx context.Context) error {
	if !s.owned || s.stopped {
		return nil
	}
	if err := s.ctl.stop(ctx); err != nil {
		return err
	}
	if s.extraSocketDir != "" {
		// The server removed its socket; the directory goes if nothing
		// else lives there.
		_ = os.Remove(s.extraSocketDir)
	}
	if s.ownerLock != nil {
		if err := releaseOwner(s.ownerLock); err != nil {
			s.logger.WarnContext(ctx, "release the embedded server's owner lock", slog.Any("error", err))
		}
		s.ownerLock = nil
	}
	s.stopped = true
	s.logger.InfoContext(ctx, "stopped embedded PostgreSQL server", slog.String("data_dir", s.ctl.dataDir))
	return nil
}

// hasCluster reports whether dir holds a PostgreSQL cluster. A directory that
// is neither empty nor a cluster is an error: initdb would refuse it, and
// herald must not write into someone else's files.
func hasCluster(dir string) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return true, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("pgembed: data directory %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("pgembed: data directory %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("pgembed: data directory %s is neither empty nor a PostgreSQL cluster (no PG_VERSION): "+
			"choose another directory", dir)
	}
	return false, nil
}
