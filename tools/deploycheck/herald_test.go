package deploycheck

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// heraldKey is the API key of the herald the tests start.
const heraldKey = "deploycheck-key"

// heraldProcess is a `herald serve` started from the image's binary.
type heraldProcess struct {
	url  string
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{} // closed when the process has exited
}

// lockedBuffer is a buffer written by the process's stderr and read by the
// test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listeningAddr reads the address from the line `herald serve` prints on
// stdout once it listens: with the JSON log format (as here) a JSON record
// whose message is "herald listening on ADDR" and whose addr is ADDR; as
// text, that message alone.
func listeningAddr(line string) (string, bool) {
	const prefix = "herald listening on "
	if a, ok := strings.CutPrefix(line, prefix); ok {
		return a, true
	}
	var rec struct{ Msg, Addr string }
	if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Msg, prefix) && rec.Addr != "" {
		return rec.Addr, true
	}
	return "", false
}

// startHerald runs `herald serve` (every role) on loopback against a
// database of its own: a fresh database on the server TEST_DATABASE_URL or
// DATABASE_URL names, dropped at the end, or else herald's embedded
// PostgreSQL in a temporary data directory. It is stopped with SIGTERM at the
// end of the test.
func startHerald(t *testing.T, bin string) *heraldProcess {
	t.Helper()
	env := []string{
		"HERALD_API_KEY=" + heraldKey,
		"HERALD_ALLOWED_TARGET_NETWORKS=127.0.0.0/8",
		"HERALD_LOG_FORMAT=json",
	}
	if dbURL := freshDatabase(t); dbURL != "" {
		env = append(env, "DATABASE_URL="+dbURL)
	} else {
		// Not t.TempDir: as root herald runs the embedded server as the
		// postgres user, who must reach the data directory.
		dataDir, err := os.MkdirTemp("", "herald-deploycheck-")
		require.NoError(t, err)
		require.NoError(t, os.Chmod(dataDir, 0o755))
		t.Cleanup(func() { os.RemoveAll(dataDir) })
		env = append(env, "HERALD_DATA_DIR="+dataDir)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_") && !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "OTEL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	p := &heraldProcess{cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := listeningAddr(sc.Text()); ok {
				addr <- a
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("herald's log:\n%s", p.logs.String())
		}
	})
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.done:
		t.Fatalf("herald exited before listening:\n%s", p.logs.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("herald did not listen within 2 minutes:\n%s", p.logs.String())
	}
	return p
}

// freshDatabase creates a database on the server TEST_DATABASE_URL (or
// DATABASE_URL) names and returns its URL, dropping it at the end of the
// test; "" when neither is set.
func freshDatabase(t *testing.T) string {
	t.Helper()
	server := os.Getenv("TEST_DATABASE_URL")
	if server == "" {
		server = os.Getenv("DATABASE_URL")
	}
	if server == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	name := "herald_deploycheck_" + strings.ToLower(rand.Text())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	require.NoError(t, err, "TEST_DATABASE_URL/DATABASE_URL must be a URL (postgres://...)")
	u.Path = "/" + name
	return u.String()
}

// call calls herald's API with the test key and decodes a JSON answer into
// out (when not nil); it returns the status.
func (p *heraldProcess) call(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, p.url+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+heraldKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(raw, out), "%s %s: %s", method, path, raw)
	}
	return resp.StatusCode
}

// get fetches a path without credentials and returns status and body.
func (p *heraldProcess) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(p.url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

// eventually polls cond every 100ms until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
