package jobspec_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/jobspec"
)

func acceptAll(string) error { return nil }

// Validate refuses, naming the field, what the adversarial pass of issue 17
// found accepted: explicit zeros taken for defaults, rates that never
// deliver, offsets RFC 3339 does not allow, text PostgreSQL cannot store,
// header values Go's client refuses to send.
func TestValidateRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	// task is a job of one task; members end its request object, and may
	// add members to the task after it.
	task := func(members string) string {
		return `{"name": "j", "tasks": [{"request": {"url": "https://gw.example/"` + members + `}}]}`
	}
	retry := func(members string) string { return task(`}, "retry": {` + members) }
	tests := []struct {
		name      string
		job       string
		wantField string // "": valid
	}{
		{name: "defaults", job: task(``)},
		{name: "timeout 0s", job: task(`, "timeout": "0s"`), wantField: "tasks[0].request.timeout"},
		{name: "timeout given", job: task(`, "timeout": "100ms"`)},
		{name: "max_attempts 0", job: retry(`"max_attempts": 0`), wantField: "tasks[0].retry.max_attempts"},
		{name: "initial_interval 0s", job: retry(`"initial_interval": "0s"`), wantField: "tasks[0].retry.initial_interval"},
		{name: "max_interval 0s", job: retry(`"max_interval": "0s"`), wantField: "tasks[0].retry.max_interval"},
		{name: "retry given", job: retry(`"max_attempts": 3, "initial_interval": "10ms", "max_interval": "1s"`)},
		{name: "retry null", job: `{"name": "j", "tasks": [{"request": {"url": "https://gw.example/"}, "retry": null}]}`},
		{name: "rate 1e-300", job: `{"name": "j", "rate": 1e-300, "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantField: "rate"},
		{name: "rate 0.001", job: `{"name": "j", "rate": 0.001, "tasks": [{"request": {"url": "https://gw.example/"}}]}`},
		{name: "rate above the maximum", job: `{"name": "j", "rate": 10000.5, "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantField: "rate"},
		{name: "at +24:00", job: `{"name": "j", "schedule": {"at": "2026-06-03T00:00:00+24:00"}, "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantField: "schedule.at"},
		{name: "at -24:00", job: `{"name": "j", "schedule": {"at": "2026-06-03T00:00:00-24:00"}, "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantField: "schedule.at"},
		{name: "at +23:59", job: `{"name": "j", "schedule": {"at": "2026-06-03T00:00:00+23:59"}, "tasks": [{"request": {"url": "https://gw.example/"}}]}`},
		{name: "NUL in name", job: `{"name": "a\u0000", "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantField: "name"},
		{name: "NUL in a label value", job: `{"name": "j", "labels": {"k": "\u0000"}, "tasks": [{"request": {"url": "https://gw.example/"}}]}`, wantField: "labels.k"},
		{name: "control character in a header", job: task(`, "headers": {"X-A": "a\u0001b"}`), wantField: "tasks[0].request.headers.X-A"},
		{name: "DEL in a header", job: task(`, "headers": {"X-A": "a\u007fb"}`), wantField: "tasks[0].request.headers.X-A"},
		{name: "tab in a header", job: task(`, "headers": {"X-A": "a\tb"}`)},
		{name: "keep-alive header", job: task(`, "headers": {"Keep-Alive": "timeout=5"}`), wantField: "tasks[0].request.headers.Keep-Alive"},
		{name: "same header in two spellings", job: task(`, "headers": {"X-A": "1", "x-A": "2"}`), wantField: "tasks[0].request.headers.x-A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j jobspec.Job
			require.NoError(t, json.Unmarshal([]byte(tt.job), &j))
			err := j.Validate(now, jobspec.Limits{}, acceptAll)
			if tt.wantField == "" {
				require.NoError(t, err, "got %v, want nil", err)
				return
			}
			var fe jobspec.Errors
			require.True(t, errors.As(err, &fe), "got %v, want field errors", err)
			require.Equal(t, tt.wantField, fe[0].Field, "got %v, want %v (%v)", fe[0].Field, tt.wantField, err)
		})
	}
}

// A field left out takes its default; what Validate fills in is stored and
// read back as given.
func TestValidateFillsDefaultsOfAbsentFields(t *testing.T) {
	t.Parallel()
	var j jobspec.Job
	require.NoError(t, json.Unmarshal([]byte(`{"name": "j", "tasks": [{"request": {"url": "https://gw.example/"}, "retry": {"initial_interval": "10m"}}]}`), &j))
	require.NoError(t, j.Validate(time.Now(), jobspec.Limits{}, acceptAll))
	got := j.Tasks[0]
	require.Equal(t, jobspec.DefaultTimeout, got.Request.Timeout.Std(), "got %v, want %v", got.Request.Timeout.Std(), jobspec.DefaultTimeout)
	require.Equal(t, jobspec.DefaultMaxAttempts, got.Retry.MaxAttempts, "got %v, want %v", got.Retry.MaxAttempts, jobspec.DefaultMaxAttempts)
	require.Equal(t, 10*time.Minute, got.Retry.MaxInterval.Std(), "got %v, want %v", got.Retry.MaxInterval.Std(), 10*time.Minute)

	stored, err := json.Marshal(j.Tasks)
	require.NoError(t, err)
	var back []jobspec.Task
	require.NoError(t, json.Unmarshal(stored, &back))
	require.Equal(t, got.Request.Timeout, back[0].Request.Timeout)
	require.Equal(t, got.Retry.MaxAttempts, back[0].Retry.MaxAttempts)
	require.Equal(t, got.Retry.InitialInterval, back[0].Retry.InitialInterval)
	require.Equal(t, got.Retry.MaxInterval, back[0].Retry.MaxInterval)
}
