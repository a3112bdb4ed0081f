package dbtest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
)

// abandonEnv makes the test binary, run as a helper process, start an
// embedded server, print its URL and exit without stopping it, as a test
// process that panics does.
const abandonEnv = "DBTEST_TEST_ABANDON_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(abandonEnv) != "" {
		os.Exit(abandonServer())
	}
	dbtest.Main(m)
}

func abandonServer() int {
	url, _, err := dbtest.StartEmbedded(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(url)
	return 0
}

func TestNewDatabasesAreMigratedAndIsolated(t *testing.T) {
	t.Parallel()
	a, b := dbtest.New(t), dbtest.New(t)
	require.NotEqual(t, databaseName(t, a), databaseName(t, b))

	for _, pool := range []*pgxpool.Pool{a, b} {
		var herald, river int
		require.NoError(t, pool.QueryRow(t.Context(),
			"SELECT (SELECT count(*) FROM herald_migrations), (SELECT count(*) FROM river_migration)").Scan(&herald, &river))
		require.Positive(t, herald, "herald's migrations are applied")
		require.Positive(t, river, "River's migrations are applied")
	}

	_, err := a.Exec(t.Context(), "CREATE TABLE only_in_a (id int)")
	require.NoError(t, err)
	var inB bool
	require.NoError(t, b.QueryRow(t.Context(), "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&inB))
	require.False(t, inB, "a table created in one database is absent from the other")
}

func TestNewURLDatabaseIsDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("user", func(t *testing.T) {
		conn, err := pgx.Connect(t.Context(), dbtest.NewURL(t))
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close(t.Context()) })
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&name))
		require.True(t, strings.HasPrefix(name, "herald_test_"), name)
	})

	var exists bool
	require.NoError(t, dbtest.New(t).QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	require.False(t, exists, "the database is dropped once its test ends")
}

func databaseName(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	u, err := url.Parse(pool.Config().ConnString())
	require.NoError(t, err)
	return strings.TrimPrefix(u.Path, "/")
}

func TestReapOrphansCleansUpAfterDeadProcesses(t *testing.T) {
	t.Parallel()
	helper := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), abandonEnv+"=1")
	helper.Stderr = os.Stderr
	out, err := helper.Output()
	require.NoError(t, err)
	url := strings.TrimSpace(string(out))
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err, "the dead process's server still runs")
	require.NoError(t, conn.Close(t.Context()))

	dbtest.ReapOrphans(t.Context(), slog.New(slog.DiscardHandler))

	_, err = pgx.Connect(t.Context(), url)
	require.Error(t, err, "the server is stopped")
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	require.NoDirExists(t, filepath.Dir(cfg.Host), "its directory is removed")
}
