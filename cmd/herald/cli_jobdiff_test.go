package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/client"
	"github.com/herald-sched/herald/internal/testcert"
)

// serverJob is a job as the server answers it: every default filled in,
// fields of its own, and the private key redacted.
const serverJob = `{
  "id": "0b7e2a52-9d3c-4d35-9a5e-1f6f1f0c0c0c", "name": "sync", "paused": %PAUSED%,
  "schedule": {"at": "2030-01-01T09:00:00Z"},
  "tasks": [{"id": "main", "request": {"method": "POST", "url": "https://gw.example/sync",
      "body": {"b": [1, 2], "a": "x"}, "timeout": "30s",
      "tls": {"client_certificate": %CERT%, "client_key": "(redacted)"}},
    "retry": {"max_attempts": 5, "initial_interval": "1s", "max_interval": "5m0s"}}],
  "misfire": "fire_once", "overlap": "allow", "labels": {}, "rate": null, "max_in_flight": null,
  "next_fire_at": "2030-01-01T09:00:00Z", "next_fire_times": ["2030-01-01T09:00:00Z"],
  "missed_ticks": 0, "skipped_ticks": 0, "previous_secret_expires_at": null,
  "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}`

// fileJobYAML is the same job as a file gives it: defaults left out, the
// instant in another offset, the body's keys in another order.
const fileJobYAML = `
name: sync
schedule: {at: "2030-01-01T10:00:00+01:00"}
tasks:
  - request:
      url: https://gw.example/sync
      body: {a: x, b: [1, 2.0]}
      tls: {client_certificate: %CERT%, client_key: %KEY%}
`

func TestCompareJobComparesDefinitions(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := testcert.NewCA(t).ClientCert(t, "gw")
	quoted := func(s string) string { raw, _ := json.Marshal(s); return string(raw) }
	for _, tc := range []struct {
		name           string
		file           string
		pausedOnServer bool
		want           []string
	}{
		{name: "the same definition", file: fileJobYAML, want: []string{}},
		{name: "paused by hand, the file silent", file: fileJobYAML, pausedOnServer: true, want: []string{}},
		{name: "paused by hand, the file says not", file: fileJobYAML + "paused: false\n", pausedOnServer: true, want: []string{"paused: true -> false"}},
		{name: "another url", file: strings.Replace(fileJobYAML, "/sync", "/sync2", 1), want: []string{`tasks[0].request.url: "https://gw.example/sync" -> "https://gw.example/sync2"`}},
		{name: "another retry", file: fileJobYAML + "    retry: {max_attempts: 3}\n", want: []string{"tasks[0].retry.max_attempts: 5 -> 3"}},
		{name: "labels added", file: fileJobYAML + "labels: {site: \"17\"}\n", want: []string{`labels.site: (none) -> "17"`}},
		{name: "a task added", file: strings.Replace(fileJobYAML, "  - request:", "  - id: main\n    request:", 1) + "  - id: two\n    depends_on: [main]\n    request: {url: https://gw.example/two}\n",
			want: []string{`tasks[1]: (none) -> {"depends_on":["main"],"id":"two","request":{"method":"POST","timeout":"30s","u…`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := strings.NewReplacer("%CERT%", quoted(certPEM), "%KEY%", quoted(keyPEM)).Replace(tc.file)
			jobs, err := readJobFile("f", strings.NewReader(file))
			require.NoError(t, err)
			checked, err := checkJobs(jobs)
			require.NoError(t, err)
			var current client.Job
			paused := "false"
			if tc.pausedOnServer {
				paused = "true"
			}
			server := strings.NewReplacer("%PAUSED%", paused, "%CERT%", quoted(certPEM)).Replace(serverJob)
			require.NoError(t, json.Unmarshal([]byte(server), &current))
			changes, err := compareJob(checked[0], &current)
			require.NoError(t, err)
			got := make([]string, len(changes))
			for i, c := range changes {
				got[i] = c.String()
			}
			require.Equal(t, tc.want, got)
		})
	}
}
