package pgembed_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/pgembed"
)

// abandonEnv names the data directory in which the test binary, run as a
// helper process, starts a server and exits without stopping it.
const abandonEnv = "PGEMBED_TEST_ABANDON_DATA_DIR"

func TestMain(m *testing.M) {
	if dataDir := os.Getenv(abandonEnv); dataDir != "" {
		os.Exit(abandonServer(dataDir))
	}
	os.Exit(m.Run())
}

// abandonServer starts a server in dataDir and returns without stopping it,
// as a herald process that crashes does.
func abandonServer(dataDir string) int {
	srv, err := pgembed.Start(context.Background(), pgembed.Config{DataDir: dataDir, Fast: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if !srv.Owned() {
		fmt.Fprintln(os.Stderr, "the helper process did not start the server")
		return 1
	}
	return 0
}

// tempDir returns a fresh directory that the server's account can enter even
// when the tests run as root and the server as the postgres user.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgembed-test-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { require.NoError(t, os.RemoveAll(dir)) })
	return dir
}

// start starts a server and registers its Stop as a cleanup.
func start(t *testing.T, cfg pgembed.Config) *pgembed.Server {
	t.Helper()
	begin := time.Now()
	srv, err := pgembed.Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Logf("Start took %s (owned: %t)", time.Since(begin), srv.Owned())
	t.Cleanup(func() { require.NoError(t, srv.Stop(context.Background())) })
	return srv
}

// connect connects to url and closes the connection at cleanup.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func selectOne(t *testing.T, url string) {
	t.Helper()
	var one int
	require.NoError(t, connect(t, url).QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
}

func TestStartStopReuse(t *testing.T) {
	t.Parallel()
	cfg := pgembed.Config{DataDir: filepath.Join(tempDir(t), "pg")}

	first := start(t, cfg)
	require.True(t, first.Owned())
	require.Contains(t, first.URL(), "postgres://herald@/herald?")
	conn := connect(t, first.URL())
	var one int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
	_, err := conn.Exec(t.Context(), "CREATE TABLE survivor (id int PRIMARY KEY); INSERT INTO survivor VALUES (42)")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))

	require.NoError(t, first.Stop(t.Context()))
	require.NoError(t, first.Stop(t.Context()), "a second Stop is a no-op")
	_, err = pgx.Connect(t.Context(), first.URL())
	require.Error(t, err, "the server is stopped")

	second := start(t, cfg)
	require.True(t, second.Owned())
	var id int
	require.NoError(t, connect(t, second.URL()).QueryRow(t.Context(), "SELECT id FROM survivor").Scan(&id))
	require.Equal(t, 42, id)
}

func TestStartAttachesToRunningServer(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(tempDir(t), "pg")
	owner := start(t, pgembed.Config{DataDir: dataDir, Fast: true})

	attached := start(t, pgembed.Config{DataDir: dataDir, Fast: true, Database: "other"})
	require.False(t, attached.Owned())
	require.True(t, strings.HasPrefix(attached.URL(), "postgres://herald@/other?"), attached.URL())
	selectOne(t, attached.URL())

	require.NoError(t, attached.Stop(t.Context()))
	selectOne(t, owner.URL())

	// Exclusive refuses it, naming the process that runs it.
	_, err := pgembed.Start(t.Context(), pgembed.Config{DataDir: dataDir, Fast: true, Exclusive: true})
	var inUse *pgembed.InUseError
	require.ErrorAs(t, err, &inUse)
	require.Equal(t, os.Getpid(), inUse.PID)
	selectOne(t, owner.URL())
}

func TestStartAdoptsServerOfExitedProcess(t *testing.T) {
	t.Parallel()
	cfg := pgembed.Config{DataDir: filepath.Join(tempDir(t), "pg"), Fast: true}
	helper := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), abandonEnv+"="+cfg.DataDir)
	out, err := helper.CombinedOutput()
	require.NoError(t, err, "helper process: %s", out)

	srv := start(t, cfg)
	require.True(t, srv.Owned(), "the server of a process that exited is adopted")
	selectOne(t, srv.URL())
	require.NoError(t, srv.Stop(t.Context()))
	_, err = pgx.Connect(t.Context(), srv.URL())
	require.Error(t, err, "Stop stops an adopted server")
}

func TestStartShortensLongSocketPath(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(tempDir(t), strings.Repeat("d", 100), "pg")
	srv := start(t, pgembed.Config{DataDir: dataDir, Fast: true})

	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	host := u.Query().Get("host")
	require.Equal(t, os.TempDir(), filepath.Dir(host))
	require.LessOrEqual(t, len(filepath.Join(host, ".s.PGSQL.5432")), 107)
	selectOne(t, srv.URL())

	require.NoError(t, srv.Stop(t.Context()))
	require.NoDirExists(t, host, "Stop removes the socket directory it created")
}

func TestConcurrentStartsShareOneServer(t *testing.T) {
	t.Parallel()
	cfg := pgembed.Config{DataDir: filepath.Join(tempDir(t), "pg"), Fast: true}

	servers := make([]*pgembed.Server, 3)
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() { servers[i], errs[i] = pgembed.Start(t.Context(), cfg) })
	}
	wg.Wait()

	owners := 0
	for i, srv := range servers {
		require.NoError(t, errs[i])
		t.Cleanup(func() { require.NoError(t, srv.Stop(context.Background())) })
		selectOne(t, srv.URL())
		if srv.Owned() {
			owners++
		}
	}
	require.Equal(t, 1, owners, "one Start starts the server, the others attach to it")
}

func TestStartWithoutBinaries(t *testing.T) {
	t.Parallel()
	_, err := pgembed.Start(t.Context(), pgembed.Config{DataDir: filepath.Join(tempDir(t), "pg"), BinDir: t.TempDir()})
	require.ErrorIs(t, err, pgembed.ErrNoBinaries)
	require.ErrorContains(t, err, "apt-get install postgresql")
}

// privateDir returns a fresh directory of mode 0700 owned by root, as /root
// is: the postgres user cannot enter it.
func privateDir(t *testing.T) string {
	t.Helper()
	private := filepath.Join(tempDir(t), "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	require.NoError(t, os.Chmod(private, 0o700))
	return private
}

func TestStartAsRootRelocatesUnreachableDataDir(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user: an ordinary user's server reaches its own home")
	}
	private := privateDir(t)
	fallback := filepath.Join(tempDir(t), "var", "lib", "herald")
	cfg := pgembed.Config{DataDir: filepath.Join(private, "herald", ".herald", "pg"), FallbackDir: fallback, Fast: true}

	first := start(t, cfg)
	require.True(t, first.Owned())
	dataDir := first.DataDir()
	require.Equal(t, fallback, filepath.Dir(filepath.Dir(dataDir)), "the cluster lives under the fallback directory")
	origin, err := os.ReadFile(filepath.Join(filepath.Dir(dataDir), "origin"))
	require.NoError(t, err)
	require.Equal(t, cfg.DataDir+"\n", string(origin))
	require.NoDirExists(t, cfg.DataDir, "nothing is written where the server cannot reach")
	fi, err := os.Stat(private)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "the private parent keeps its mode")
	_, err = connect(t, first.URL()).Exec(t.Context(), "CREATE TABLE survivor (id int PRIMARY KEY)")
	require.NoError(t, err)
	require.NoError(t, first.Stop(t.Context()))

	second := start(t, cfg)
	require.Equal(t, dataDir, second.DataDir(), "the next start finds the same cluster")
	var n int
	require.NoError(t, connect(t, second.URL()).QueryRow(t.Context(), "SELECT count(*) FROM survivor").Scan(&n))
	require.Zero(t, n)
}

func TestStartAsRootRejectsUnreachableFallback(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	private := privateDir(t)
	_, err := pgembed.Start(t.Context(), pgembed.Config{
		DataDir:     filepath.Join(private, "pg"),
		FallbackDir: filepath.Join(private, "fallback"),
	})
	require.ErrorContains(t, err, "nor its fallback")
	require.ErrorContains(t, err, "cannot enter "+private)
}
