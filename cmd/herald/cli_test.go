package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/client"
	"github.com/herald-sched/herald/internal/dbtest"
	"github.com/herald-sched/herald/internal/heraldtest"
)

// cliResult is what a client command printed and its exit code.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the herald binary with args against the server at url (with
// the test key), stdin as its standard input.
func runCLI(t *testing.T, url, stdin string, args ...string) cliResult {
	t.Helper()
	return runCLIEnv(t, []string{"HERALD_URL=" + url, "HERALD_API_KEY=" + testKey}, stdin, args...)
}

func runCLIEnv(t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, heraldBin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// writeFile writes a job file in a test's directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// applied decodes jobs apply -o json.
func applied(t *testing.T, r cliResult) []applyResult {
	t.Helper()
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	var out []applyResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "stdout: %s", r.stdout)
	return out
}

// TestCLIAgainstAServer runs the client commands as processes against a
// `herald serve` process on a database of its own.
func TestCLIAgainstAServer(t *testing.T) {
	t.Parallel()
	p := startServe(t, []string{"DATABASE_URL=" + dbtest.NewURL(t)})
	rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
		if strings.HasSuffix(r.Path, "/fail") {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})

	t.Run("apply twice, then a changed file", func(t *testing.T) {
		t.Parallel()
		file := writeFile(t, "job.yaml", `
name: cli-hourly
schedule: {every: 1h}
tasks:
  - request: {url: "`+rc.URL+`/hourly"}
`)
		first := applied(t, runCLI(t, p.url, "", "jobs", "apply", "-f", file, "-o", "json"))
		require.Len(t, first, 1)
		require.Equal(t, "created", first[0].Action)
		require.NotNil(t, first[0].NextFireAt)
		require.WithinDuration(t, time.Now().Add(time.Hour), *first[0].NextFireAt, time.Minute)

		again := runCLI(t, p.url, "", "jobs", "apply", "-f", file)
		require.Equal(t, 0, again.code, again.stderr)
		require.Contains(t, again.stdout, `job "cli-hourly" unchanged (`+first[0].ID+`)`)

		require.NoError(t, os.WriteFile(file, []byte(`
name: cli-hourly
schedule: {every: 2h}
tasks:
  - request: {url: "`+rc.URL+`/hourly"}
`), 0o644))
		dry := runCLI(t, p.url, "", "jobs", "apply", "-f", file, "--dry-run")
		require.Equal(t, 0, dry.code, dry.stderr)
		require.Contains(t, dry.stdout, `job "cli-hourly" would be replaced`)
		require.Contains(t, dry.stdout, `schedule.every: "1h0m0s" -> "2h0m0s"`)

		changed := applied(t, runCLI(t, p.url, "", "jobs", "apply", "-f", file, "-o", "json"))
		require.Equal(t, "replaced", changed[0].Action)
		require.Equal(t, first[0].ID, changed[0].ID)
		require.Equal(t, []jobChange{{Field: "schedule.every", From: "1h0m0s", To: "2h0m0s"}}, changed[0].Changes)
		require.WithinDuration(t, time.Now().Add(2*time.Hour), *changed[0].NextFireAt, time.Minute, "the next fire time is recomputed")

		got := runCLI(t, p.url, "", "jobs", "get", "cli-hourly", "-o", "json")
		require.Equal(t, 0, got.code, got.stderr)
		var job client.Job
		require.NoError(t, json.Unmarshal([]byte(got.stdout), &job))
		require.Equal(t, "2h0m0s", *job.Schedule.Every)
		require.Equal(t, changed[0].NextFireAt.UTC(), job.NextFireAt.UTC())
	})

	t.Run("trigger, and runs watch to success", func(t *testing.T) {
		t.Parallel()
		file := writeFile(t, "dag.json", `{"name": "cli-dag", "tasks": [
  {"id": "fetch", "request": {"url": "`+rc.URL+`/fetch"}},
  {"id": "report", "depends_on": ["fetch"], "request": {"url": "`+rc.URL+`/report", "body": {"fetched": "{{ tasks.fetch.status }}"}}}]}`)
		require.Equal(t, "created", applied(t, runCLI(t, p.url, "", "jobs", "apply", "-f", file, "-o", "json"))[0].Action)

		trig := runCLI(t, p.url, "", "jobs", "trigger", "cli-dag", "-o", "json")
		require.Equal(t, 0, trig.code, trig.stderr)
		var run client.Run
		require.NoError(t, json.Unmarshal([]byte(trig.stdout), &run))

		watch := runCLI(t, p.url, "", "runs", "watch", run.Id.String(), "--interval", "100ms")
		require.Equal(t, 0, watch.code, "stdout: %s\nstderr: %s", watch.stdout, watch.stderr)
		require.Regexp(t, `(?m)fetch\s+succeeded`, watch.stdout)
		require.Regexp(t, `(?m)report\s+succeeded`, watch.stdout)
		require.Regexp(t, `(?m)run succeeded in \S+$`, watch.stdout)

		got := runCLI(t, p.url, "", "runs", "get", run.Id.String(), "-o", "json")
		require.Equal(t, 0, got.code, got.stderr)
		var done client.Run
		require.NoError(t, json.Unmarshal([]byte(got.stdout), &done))
		require.Equal(t, client.RunStateSucceeded, done.State)
		require.Len(t, done.Tasks, 2)
	})

	t.Run("trigger --input sends the run's input", func(t *testing.T) {
		t.Parallel()
		file := writeFile(t, "input.json", `{"name": "cli-input", "tasks": [
  {"request": {"url": "`+rc.URL+`/input", "body": {"region": "{{ input.region }}"}}}]}`)
		require.Equal(t, 0, runCLI(t, p.url, "", "jobs", "apply", "-f", file).code)
		trig := runCLI(t, p.url, "", "jobs", "trigger", "cli-input", "--input", `{"region": "eu-1"}`, "-o", "json")
		require.Equal(t, 0, trig.code, "stdout: %s\nstderr: %s", trig.stdout, trig.stderr)
		var run client.Run
		require.NoError(t, json.Unmarshal([]byte(trig.stdout), &run))
		watch := runCLI(t, p.url, "", "runs", "watch", run.Id.String(), "--interval", "100ms")
		require.Equal(t, 0, watch.code, "stdout: %s\nstderr: %s", watch.stdout, watch.stderr)
		got := runCLI(t, p.url, "", "runs", "get", run.Id.String(), "-o", "json")
		require.Equal(t, 0, got.code, got.stderr)
		var done client.Run
		require.NoError(t, json.Unmarshal([]byte(got.stdout), &done))
		require.NotNil(t, done.Input)
		require.Equal(t, map[string]any{"region": "eu-1"}, *done.Input, "got %v, want the input sent", *done.Input)
		require.Equal(t, client.RunStateSucceeded, done.State)
	})

	t.Run("a failing run's watch exits 1", func(t *testing.T) {
		t.Parallel()
		file := writeFile(t, "fail.yaml", `
name: cli-failing
tasks:
  - id: flaky
    request: {url: "`+rc.URL+`/fail"}
    retry: {max_attempts: 1}
  - id: after
    depends_on: [flaky]
    request: {url: "`+rc.URL+`/after"}
`)
		require.Equal(t, 0, runCLI(t, p.url, "", "jobs", "apply", "-f", file).code)
		watch := runCLI(t, p.url, "", "jobs", "trigger", "cli-failing", "--watch", "-o", "json")
		require.Equal(t, 1, watch.code, "stdout: %s\nstderr: %s", watch.stdout, watch.stderr)
		lines := strings.Split(strings.TrimSpace(watch.stdout), "\n")
		states := map[string]string{}
		for _, l := range lines {
			var e watchEvent
			require.NoError(t, json.Unmarshal([]byte(l), &e), "line %q", l)
			states[e.Task] = e.State
		}
		require.Equal(t, map[string]string{"": "failed", "flaky": "failed", "after": "upstream_failed"}, states)
	})

	t.Run("jobs get shows a device-local job's zones", func(t *testing.T) {
		t.Parallel()
		for i, zone := range []string{"Asia/Tokyo", "Asia/Tokyo", "America/New_York"} {
			body := fmt.Sprintf(`{"name": "cli-car-%d", "labels": {"fleet": "cli-cars"}, "capacity": 1, "timezone": %q}`, i, zone)
			req, err := http.NewRequest(http.MethodPost, p.url+"/v1/devices", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusCreated, resp.StatusCode)
		}
		file := writeFile(t, "local.yaml", `
name: cli-local
schedule: {cron: "0 3 * * *", timezone: device}
tasks:
  - target: {fleet: {selector: {fleet: cli-cars}}, path: /logs}
`)
		require.Equal(t, "created", applied(t, runCLI(t, p.url, "", "jobs", "apply", "-f", file, "-o", "json"))[0].Action)
		got := runCLI(t, p.url, "", "jobs", "get", "cli-local")
		require.Equal(t, 0, got.code, got.stderr)
		require.Contains(t, got.stdout, "DEVICE ZONES")
		require.Contains(t, got.stdout, "America/New_York: 1 devices")
		require.Contains(t, got.stdout, "Asia/Tokyo: 2 devices")
		require.Contains(t, got.stdout, "cron 0 3 * * * in each device's zone")
		require.Contains(t, got.stdout, "fleet fleet=cli-cars/logs")
	})

	t.Run("-o json parses", func(t *testing.T) {
		t.Parallel()
		stdin := runCLI(t, p.url, `{"name": "cli-stdin", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, "jobs", "apply", "-f", "-")
		require.Equal(t, 0, stdin.code, stdin.stderr)
		require.Contains(t, stdin.stdout, `job "cli-stdin" created`)
		for _, tc := range []struct {
			name string
			args []string
			into any
		}{
			{"jobs list", []string{"jobs", "list"}, &[]client.Job{}},
			{"runs list", []string{"runs", "list", "--limit", "5"}, &[]client.Run{}},
			{"devices list", []string{"devices", "list"}, &[]client.Device{}},
			{"keys create", []string{"keys", "create", "cli-json"}, &client.APIKeyCreated{}},
			{"keys list", []string{"keys", "list"}, &[]client.APIKey{}},
			{"graph", []string{"graph", "cli-stdin"}, &client.Graph{}},
		} {
			r := runCLI(t, p.url, "", append(tc.args, "-o", "json")...)
			require.Equal(t, 0, r.code, "%s: %s", tc.name, r.stderr)
			require.NoError(t, json.Unmarshal([]byte(r.stdout), tc.into), "%s: %s", tc.name, r.stdout)
		}
	})

	t.Run("invalid files send nothing", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name, file, content string
			want                []string // lines of stderr
		}{
			{
				name: "an unknown field", file: "unknown.yaml",
				content: "name: cli-unknown\ntasks:\n  - request:\n      url: https://gw.example/\n      timout: 5s\n",
				want:    []string{"unknown.yaml:5: jobs[0] (cli-unknown): tasks[0].request.timout: unknown field"},
			},
			{
				name: "a wrong type", file: "type.json",
				content: "{\"name\": \"cli-type\",\n \"tasks\": [{\"request\": {\"url\": \"https://gw.example/\"},\n   \"retry\": {\"max_attempts\": \"3\"}}]}\n",
				want:    []string{"type.json:3: jobs[0] (cli-type): tasks[0].retry.max_attempts: value must be an integer"},
			},
			{
				name: "the third job of a list", file: "third.yaml",
				content: `- name: cli-third-a
  tasks: [{request: {url: "https://gw.example/a"}}]
- name: cli-third-b
  tasks: [{request: {url: "https://gw.example/b"}}]
- name: cli-third-c
  schedule: {cron: "61 * * * *"}
  tasks:
    - id: x
      depends_on: [x]
      request: {url: "https://gw.example/c"}
`,
				want: []string{`third.yaml:6: jobs[2] (cli-third-c): schedule.cron:`},
			},
			{
				name: "a name given twice", file: "twice.yaml",
				content: "- {name: cli-twice, tasks: [{request: {url: \"https://gw.example/\"}}]}\n- {name: cli-twice, tasks: [{request: {url: \"https://gw.example/\"}}]}\n",
				want:    []string{`twice.yaml:2: jobs[1] (cli-twice): name: "cli-twice" is also the name of jobs[0] (line 1)`},
			},
			{
				name: "a key given twice", file: "key.yaml",
				content: "name: cli-key\nname: cli-key-again\ntasks: []\n",
				want:    []string{"key.yaml:2: name: given twice (first on line 1)"},
			},
			{
				name: "not YAML", file: "broken.yaml",
				content: "name: [cli-broken\n",
				want:    []string{"broken.yaml:"},
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				file := writeFile(t, tc.file, tc.content)
				r := runCLI(t, p.url, "", "jobs", "apply", "-f", file)
				require.Equal(t, 4, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
				require.Empty(t, r.stdout)
				for _, want := range tc.want {
					require.Contains(t, r.stderr, strings.Replace(want, tc.file, file, 1))
				}
				require.Contains(t, r.stderr, "nothing was applied")
				list := runCLI(t, p.url, "", "jobs", "list", "--name", "cli-"+strings.TrimSuffix(tc.file, filepath.Ext(tc.file)), "-o", "json")
				require.Equal(t, "[]\n", list.stdout, "nothing was created")
			})
		}
	})

	t.Run("a job the server refuses stops the rest", func(t *testing.T) {
		t.Parallel()
		file := writeFile(t, "refused.yaml", `
- name: cli-refused-a
  tasks: [{request: {url: "https://gw.example/a"}}]
- name: cli-refused-b
  tasks:
    - target: {device: 0b7e2a52-9d3c-4d35-9a5e-1f6f1f0c0c0c}
      request: {}
- name: cli-refused-c
  tasks: [{request: {url: "https://gw.example/c"}}]
`)
		r := runCLI(t, p.url, "", "jobs", "apply", "-f", file)
		require.Equal(t, 4, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
		require.Contains(t, r.stdout, `job "cli-refused-a" created`)
		require.Contains(t, r.stderr, "jobs[1] (cli-refused-b): 422")
		require.Contains(t, r.stderr, "applied: cli-refused-a; not applied: cli-refused-b, cli-refused-c")
	})

	t.Run("the example rollout applies", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join("..", "..", "examples", "edge-rollout.yaml")
		first := runCLI(t, p.url, "", "jobs", "apply", "-f", file)
		require.Equal(t, 0, first.code, first.stderr)
		require.Contains(t, first.stdout, `job "edge-rollout-site-17" created`)
		require.Contains(t, first.stdout, "warning: no device carries the label")
		again := runCLI(t, p.url, "", "jobs", "apply", "-f", file)
		require.Equal(t, 0, again.code, again.stderr)
		require.Contains(t, again.stdout, `job "edge-rollout-site-17" unchanged`)
	})

	t.Run("exit codes", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			env    []string
			args   []string
			code   int
			stderr string
		}{
			{name: "not found", args: []string{"jobs", "get", "no-such-job"}, code: 3, stderr: `no job is named "no-such-job"`},
			{name: "an unknown run", args: []string{"runs", "get", "0b7e2a52-9d3c-4d35-9a5e-1f6f1f0c0c0c"}, code: 3, stderr: "404"},
			{name: "an unknown flag", args: []string{"jobs", "list", "--bogus"}, code: 2},
			{name: "an argument missing", args: []string{"jobs", "get"}, code: 2, stderr: "want one argument, JOB"},
			{name: "no file", args: []string{"jobs", "apply"}, code: 2, stderr: "-f FILE"},
			{name: "a missing file", args: []string{"jobs", "apply", "-f", "/nonexistent.yaml"}, code: 2, stderr: "no such file"},
			{name: "an unknown command", args: []string{"jobs", "frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
			{name: "a bad output", args: []string{"jobs", "list", "-o", "xml"}, code: 2},
			{name: "help", args: []string{"runs", "watch", "--help"}, code: 0},
			{name: "a wrong key from the environment", env: []string{"HERALD_API_KEY=wrong"}, args: []string{"jobs", "list"}, code: 1, stderr: "refused the API key from HERALD_API_KEY (401)"},
			{name: "a wrong key from the flag", args: []string{"jobs", "list", "--api-key", "wrong"}, code: 1, stderr: "refused the API key from --api-key (401)"},
			{name: "no key", env: []string{"HERALD_API_KEY="}, args: []string{"keys", "list"}, code: 1, stderr: "none was given: set HERALD_API_KEY or pass --api-key"},
			{name: "input that is not JSON", args: []string{"jobs", "trigger", "any-job", "--input", `{a`}, code: 2, stderr: "not a JSON value"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				env := append([]string{"HERALD_URL=" + p.url, "HERALD_API_KEY=" + testKey}, tc.env...)
				r := runCLIEnv(t, env, "", tc.args...)
				require.Equal(t, tc.code, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
				require.Contains(t, r.stderr, tc.stderr)
				require.NotContains(t, r.stderr, "goroutine")
			})
		}
	})
}

// A server that cannot be reached is one line and exit code 1.
func TestCLIServerUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	r := runCLI(t, url, "", "runs", "list")
	require.Equal(t, 1, r.code)
	require.Equal(t, "herald: cannot reach herald at "+url+": connection refused\n", r.stderr)
}

func TestCLICompletion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		words []string
		want  []string
	}{
		{"commands", []string{""}, []string{"serve", "migrate", "receive", "version", "help", "jobs", "runs", "devices", "keys", "graph", "completion"}},
		{"a group's commands", []string{"runs", ""}, []string{"list", "get", "watch", "cancel", "retry", "pause", "resume"}},
		{"a prefix", []string{"jobs", "p"}, []string{"pause"}},
		{"flags", []string{"jobs", "apply", "--d"}, []string{"--dry-run"}},
		{"a flag's values", []string{"runs", "list", "--state", "s"}, []string{"skipped", "succeeded"}},
		{"a file", []string{"jobs", "apply", "-f", ""}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLIEnv(t, nil, "", append([]string{"__complete"}, tc.words...)...)
			require.Equal(t, 0, r.code, r.stderr)
			require.Equal(t, tc.want, strings.Fields(r.stdout))
		})
	}
	t.Run("in bash", func(t *testing.T) {
		t.Parallel()
		bash, err := exec.LookPath("bash")
		if err != nil {
			t.Skip("bash is not installed")
		}
		// The script calls herald by name: put the test binary first on PATH.
		script := `source <(herald completion bash)
COMP_WORDS=(herald jobs ap); COMP_CWORD=2; _herald; echo "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, "-c", script)
		cmd.Env = append(baseEnv(), "PATH="+filepath.Dir(heraldBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Equal(t, "apply\n", string(out))
	})
}
