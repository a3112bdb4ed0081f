package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseOptions(t *testing.T) {
	t.Parallel()
	env := func(name string) string {
		if name == "DATABASE_URL" {
			return "postgres://h/db"
		}
		return ""
	}
	cases := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*testing.T, options)
	}{
		{
			name: "defaults: every fault, within five minutes",
			check: func(t *testing.T, o options) {
				require.Equal(t, []string{stepKill, stepOutage, stepRolling}, o.faults)
				require.Equal(t, "postgres://h/db", o.databaseURL)
				require.LessOrEqual(t, o.budget(), maxRun)
			},
		},
		{
			name: "faults and herald arguments",
			args: []string{"-faults", "outage, kill", "-herald-args", "--rescue-after 20s  --max-request-timeout 5s"},
			check: func(t *testing.T, o options) {
				require.Equal(t, []string{stepOutage, stepKill}, o.faults)
				require.Equal(t, []string{"--rescue-after", "20s", "--max-request-timeout", "5s"}, o.heraldArgs)
			},
		},
		{name: "an unknown fault", args: []string{"-faults", "kill,flood"}, wantErr: `unknown fault "flood"`},
		{name: "too long a run", args: []string{"-duration", "4m"}, wantErr: "more than 4m0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseOptions(tc.args, io.Discard, env)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, o)
		})
	}
}
