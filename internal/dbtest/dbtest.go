// Package dbtest gives every database-backed test a PostgreSQL database of its
// own, cloned from a template database that holds herald's migrated schema.
//
// A test package opts in from its TestMain:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// and its tests call New (a pool) or NewURL (a connection URL).
//
// The server is the one TEST_DATABASE_URL names, else DATABASE_URL's, else an
// embedded server (see package pgembed) started in a fresh temporary directory
// for the test process and stopped when its tests are done. The server is
// chosen, and the template built, at the first New or NewURL call, so that a
// run selecting no database test does not pay for them.
//
// The template is named after a hash of the migrations (herald's and
// River's), so that test processes sharing a server share it, and a schema
// change builds a new one. Superseded templates are not dropped: on a long-
// lived shared server, drop old herald_tmpl_* databases by hand.
package dbtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-sched/herald/internal/store"
)

const (
	// testDatabasePrefix starts the name of every database New creates.
	testDatabasePrefix = "herald_test_"
	// maxConns caps the connections of a pool New returns.
	maxConns = 20
	// setupTimeout bounds starting the server and building the template.
	setupTimeout = 3 * time.Minute
	// cleanupTimeout bounds dropping a test's database and stopping the
	// embedded server.
	cleanupTimeout = time.Minute
)

// serverEnv lists, in order of preference, the environment variables that
// may name the server to run tests against.
var serverEnv = []string{"TEST_DATABASE_URL", "DATABASE_URL"}

// current is the state Main set up for the test process; nil until Main runs.
var current *suite

// Main runs the package's tests and exits with their status, after stopping
// the embedded server if one was started. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain that has its own cleanup to do: it runs the
// tests, stops the embedded server, and returns the exit status.
func Run(m *testing.M) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil)).With(slog.String("package", "dbtest"))
	current = &suite{logger: logger}
	code := m.Run()
	if err := current.close(); err != nil {
		logger.Error("clean up", slog.Any("error", err))
		code = max(code, 1)
	}
	return code
}

// New returns a pool connected to a new database that holds herald's
// migrated schema and nothing else. The pool is closed and the database
// dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return Connect(t, NewURL(t))
}

// Connect returns a pool connected to url, closed when the test ends.
func Connect(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	return connect(t, url, nil)
}

// NewTraced is New with the round trips of the pool's connections
// recorded.
func NewTraced(t testing.TB) (*pgxpool.Pool, *RoundTrips) {
	t.Helper()
	trips := &RoundTrips{}
	return connect(t, NewURL(t), trips), trips
}

func connect(t testing.TB, url string, tracer *RoundTrips) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("dbtest: parse the test database's URL: %v", err)
	}
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	cfg.MaxConns = maxConns
	store.ConfigureSession(cfg) // as herald's own connections
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("dbtest: connect to the test database: %v", err)
	}
	// Cleanups run last-in first-out: the pool closes before NewURL's
	// cleanup drops the database.
	t.Cleanup(pool.Close)
	return pool
}

// NewURL is New for tests that need a connection URL rather than a pool,
// such as tests that start a whole herald process: it returns the URL of a
// new database, dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	if current == nil {
		t.Fatal("dbtest: Main was not called: add func TestMain(m *testing.M) { dbtest.Main(m) } to the package's tests")
	}
	srv, err := current.server()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	name := testDatabasePrefix + strings.ToLower(rand.Text())
	if err := srv.createDatabase(t.Context(), name, srv.template); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := srv.dropDatabase(ctx, name); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return srv.databaseURL(name)
}

// suite is what Main sets up: the server, chosen and prepared once, at first
// use.
type suite struct {
	logger *slog.Logger

	once sync.Once
	srv  *server
	err  error
	// stopEmbedded stops the embedded server and removes its directory; nil
	// when none was started.
	stopEmbedded func(context.Context) error
}

// server returns the prepared server, setting it up at the first call.
func (s *suite) server() (*server, error) {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		s.srv, s.err = s.setUp(ctx)
	})
	return s.srv, s.err
}

// setUp connects to the server the environment names, or starts an embedded
// one, and makes sure the template exists there.
func (s *suite) setUp(ctx context.Context) (*server, error) {
	connString, source := serverFromEnv()
	if connString == "" {
		embedded, stop, err := startEmbedded(ctx, s.logger)
		if err != nil {
			return nil, err
		}
		s.stopEmbedded = stop
		connString, source = embedded, "the embedded server"
	} else {
		s.logger.Info("using the server the environment names", slog.String("variable", source),
			slog.String("url", redact(connString)))
	}
	srv, err := openServer(ctx, connString, s.logger)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return srv, nil
}

// close releases what setUp acquired.
func (s *suite) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if s.srv != nil {
		s.srv.admin.Close()
	}
	if s.stopEmbedded != nil {
		return s.stopEmbedded(ctx)
	}
	return nil
}

// serverFromEnv returns the connection string of the first variable of
// serverEnv that is set, and the variable's name.
func serverFromEnv() (connString, variable string) {
	for _, name := range serverEnv {
		if v := os.Getenv(name); v != "" {
			return v, name
		}
	}
	return "", ""
}

// redact returns connString for logs: a URL without its password, or a
// placeholder for the keyword/value form, which may hold one anywhere.
func redact(connString string) string {
	u, err := url.Parse(connString)
	if err != nil || u.Scheme == "" {
		return "(keyword/value connection string)"
	}
	return u.Redacted()
}
