package jobspec_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/jobspec"
)

// A fleet target and its rollout are checked at registration, naming the
// field.
func TestValidateFleetAndRollout(t *testing.T) {
	t.Parallel()
	fleet := func(extra string) string {
		return `{"name": "j", "tasks": [{"id": "update", "target": {"fleet": {"selector": {"site": "17"}}, "path": "/update"}` + extra + `}]}`
	}
	tests := []struct {
		name        string
		job         string
		wantField   string // "": valid
		wantMessage string
	}{
		{name: "fleet", job: fleet(``)},
		{name: "every device", job: `{"name": "j", "tasks": [{"target": {"fleet": {"selector": {}}}}]}`},
		{name: "waves", job: fleet(`, "rollout": {"waves": [1, "10%", "100%"], "pause": "5m", "abort_if": {"failed_ratio": 0.1, "open_circuits": 3, "offline": 2}}`)},
		{name: "waves not increasing", job: fleet(`, "rollout": {"waves": ["5", "3"]}`), wantField: "tasks[0].rollout.waves[1]", wantMessage: "must increase"},
		{name: "percentages not increasing", job: fleet(`, "rollout": {"waves": ["50%", "50%"]}`), wantField: "tasks[0].rollout.waves[1]", wantMessage: "must increase"},
		{name: "percentage over 100", job: fleet(`, "rollout": {"waves": ["1", "150%"]}`), wantField: "tasks[0].rollout.waves[1]", wantMessage: "at most 100%"},
		{name: "count below 1", job: fleet(`, "rollout": {"waves": [0]}`), wantField: "tasks[0].rollout.waves[0]", wantMessage: "at least 1"},
		{name: "not a wave", job: fleet(`, "rollout": {"waves": [true]}`), wantField: "tasks[0].rollout.waves[0]", wantMessage: "a count"},
		{name: "ratio above 1", job: fleet(`, "rollout": {"abort_if": {"failed_ratio": 1.5}}`), wantField: "tasks[0].rollout.abort_if.failed_ratio"},
		{name: "ratio below 0", job: fleet(`, "rollout": {"abort_if": {"failed_ratio": -0.1}}`), wantField: "tasks[0].rollout.abort_if.failed_ratio"},
		{name: "open circuits 0", job: fleet(`, "rollout": {"abort_if": {"open_circuits": 0}}`), wantField: "tasks[0].rollout.abort_if.open_circuits"},
		{name: "pause negative", job: fleet(`, "rollout": {"pause": "-1s"}`), wantField: "tasks[0].rollout.pause"},
		{name: "fleet and a url", job: `{"name": "j", "tasks": [{"target": {"fleet": {"selector": {}}}, "request": {"url": "https://gw.example/a"}}]}`,
			wantField: "tasks[0].target", wantMessage: "either request.url or a target"},
		{name: "fleet and a pool", job: `{"name": "j", "tasks": [{"target": {"fleet": {"selector": {}}, "pool": {"selector": {}}}}]}`,
			wantField: "tasks[0].target", wantMessage: "one of a device, a pool or a fleet"},
		{name: "rollout without a fleet", job: `{"name": "j", "tasks": [{"request": {"url": "https://gw.example/a"}, "rollout": {"waves": ["1"]}}]}`,
			wantField: "tasks[0].rollout", wantMessage: "target is a fleet"},
		{name: "device-local schedule", job: `{"name": "j", "schedule": {"cron": "0 3 * * *", "timezone": "device"}, "tasks": [{"id": "update", "target": {"fleet": {"selector": {"site": "17"}}}}]}`},
		{name: "device-local schedule without a fleet", job: `{"name": "j", "schedule": {"cron": "0 3 * * *", "timezone": "device"}, "tasks": [{"request": {"url": "https://gw.example/a"}}]}`,
			wantField: "schedule.timezone", wantMessage: "only to a job with a fleet task"},
		{name: "device-local schedule, bad cron", job: `{"name": "j", "schedule": {"cron": "0 3 * *", "timezone": "device"}, "tasks": [{"target": {"fleet": {"selector": {}}}}]}`,
			wantField: "schedule.cron"},
		{name: "device zone with every", job: `{"name": "j", "schedule": {"every": "1h", "timezone": "device"}, "tasks": [{"target": {"fleet": {"selector": {}}}}]}`,
			wantField: "schedule.timezone", wantMessage: "only to cron"},
		{name: "bad selector key", job: `{"name": "j", "tasks": [{"target": {"fleet": {"selector": {"bad key": "x"}}}}]}`,
			wantField: "tasks[0].target.fleet.selector.bad key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j jobspec.Job
			require.NoError(t, json.Unmarshal([]byte(tt.job), &j))
			err := j.Validate(time.Now(), jobspec.Limits{}, func(string) error { return nil })
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			var fe jobspec.Errors
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.wantField, fe[0].Field, "got %v, want %v", fe, tt.wantField)
			require.Contains(t, fe[0].Message, tt.wantMessage)
		})
	}
}
