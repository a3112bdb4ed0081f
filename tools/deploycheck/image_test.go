package deploycheck

import (
	"bytes"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// The binary the Dockerfile builds must run on distroless/static (no libc,
// no loader): statically linked.
func TestImageBinaryIsStatic(t *testing.T) {
	t.Parallel()
	require.NoError(t, CheckStatic(image(t).Binary))
}

// The build flags the operations guide promises, read back from the binary
// (go version -m): the test cannot pass with a build other than the
// Dockerfile's.
func TestImageBinaryIsBuiltWithTheDockerfilesFlags(t *testing.T) {
	t.Parallel()
	b := image(t)
	require.Equal(t, "0", b.GoBuild.Env["CGO_ENABLED"], "the Dockerfile's ENV before go build sets CGO_ENABLED=0")
	require.True(t, b.GoBuild.Has("-trimpath"), "go build -trimpath")
	require.Contains(t, b.GoBuild.Flag("-ldflags"), "-X main.version="+testVersion, "the VERSION build argument is stamped")
	require.Equal(t, "./cmd/herald", b.GoBuild.Args[len(b.GoBuild.Args)-1])

	info, err := buildinfo.ReadFile(b.Binary)
	require.NoError(t, err)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	require.Equal(t, "0", settings["CGO_ENABLED"])
	require.Equal(t, "true", settings["-trimpath"])
	require.Equal(t, "github.com/herald-sched/herald/cmd/herald", info.Path)
	// go omits -ldflags from the build information under -trimpath; the
	// stamped version is in the binary's data (and GET /v1/replicas shows
	// it: TestMetricsScrape).
	bin, err := os.ReadFile(b.Binary)
	require.NoError(t, err)
	require.True(t, bytes.Contains(bin, []byte(testVersion)), "the binary holds the version %q", testVersion)
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	b := image(t)
	final := b.Dockerfile.Final()

	t.Run("numeric non-root user", func(t *testing.T) {
		t.Parallel()
		uid, gid := imageUser(t, final)
		require.NotZero(t, uid, "USER must not be root")
		require.NotZero(t, gid, "USER's group must not be root's")
	})
	t.Run("entrypoint in exec form runs serve", func(t *testing.T) {
		t.Parallel()
		argv, err := final.Entrypoint()
		require.NoError(t, err)
		require.Equal(t, []string{ImageBinary, "serve"}, argv)
	})
	t.Run("exposes the port herald listens on", func(t *testing.T) {
		t.Parallel()
		env, err := final.Env(-1)
		require.NoError(t, err)
		addr := env["HERALD_ADDR"]
		require.NotEmpty(t, addr, "the image sets HERALD_ADDR")
		_, port, ok := strings.Cut(addr, ":")
		require.True(t, ok)
		require.Contains(t, final.Ports(), port)
	})
	t.Run("runtime has no shell", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, final.All("RUN"), "the final stage runs nothing: its base has no shell")
		require.True(t, strings.HasPrefix(final.Base, "gcr.io/distroless/static") || final.Base == "scratch", "base %s", final.Base)
	})
	t.Run("build context leaves out what the build does not need", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{".git", "tools", "deploy", ".herald", "bin"} {
			_, err := os.Stat(filepath.Join(b.Context, name))
			require.True(t, os.IsNotExist(err), "%s is in the build context", name)
		}
		for _, name := range []string{"go.mod", "go.sum", "cmd/herald/main.go", "migrations", "views", "openapi"} {
			_, err := os.Stat(filepath.Join(b.Context, name))
			require.NoError(t, err, "%s is in the build context", name)
		}
	})
	t.Run("every ENV is a setting herald knows", func(t *testing.T) {
		t.Parallel()
		env, err := final.Env(-1)
		require.NoError(t, err)
		serve, err := ReadSettings(b.Binary, "serve")
		require.NoError(t, err)
		for k := range env {
			_, ok := serve.ByEnv(k)
			require.True(t, ok, "ENV %s: herald serve has no such setting", k)
		}
	})
}

// imageUser reads USER uid:gid, which must be numeric (Kubernetes'
// runAsNonRoot can then check it without the image's /etc/passwd).
func imageUser(t *testing.T, st *Stage) (uid, gid uint32) {
	t.Helper()
	user := st.User()
	require.NotEmpty(t, user, "the final stage sets USER")
	u, g, hasGroup := strings.Cut(user, ":")
	if !hasGroup {
		g = u
	}
	un, err := strconv.ParseUint(u, 10, 32)
	require.NoError(t, err, "USER %s is not numeric", user)
	gn, err := strconv.ParseUint(g, 10, 32)
	require.NoError(t, err, "USER %s's group is not numeric", user)
	return uint32(un), uint32(gn)
}

// The binary runs as the image's user: started with that uid and gid (which
// needs root here), it answers --help.
func TestImageBinaryRunsAsTheImageUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("skipped: starting a process as the image's user needs root, and this test runs as uid " + strconv.Itoa(os.Geteuid()))
	}
	b := image(t)
	uid, gid := imageUser(t, b.Dockerfile.Final())
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}} {
		cmd := exec.Command(b.Binary, args...)
		cmd.Dir = "/"
		cmd.Env = []string{"HOME=/nonexistent"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), "herald %v as uid %d: %s", args, uid, out.String())
		require.Contains(t, out.String(), "herald", "herald %v as uid %d", args, uid)
	}
}

// Where no container engine works (this machine: docker's client without a
// daemon), make image says so for each engine and fails.
func TestMakeImageSaysWhyWithoutAnEngine(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"docker", "podman", "buildah"} {
		if exec.Command(engine, "info").Run() == nil {
			t.Skipf("skipped: %s works here (%s info succeeds), and this test does not build images", engine, engine)
		}
	}
	cmd := exec.Command(filepath.Join(repoRoot(t), "deploy", "image.sh"))
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 1, exit.ExitCode())
	require.Contains(t, string(out), "no container engine can build here")
	for _, engine := range []string{"docker", "podman", "buildah"} {
		require.Contains(t, string(out), "  - "+engine+": ")
	}
	if _, err := exec.LookPath("docker"); err == nil {
		require.Contains(t, string(out), "docker: installed, but `docker info` fails")
	}
}
