package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadJobFileKnowsEachFieldsLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		// want maps "job index/path" to a line.
		want map[int]map[string]int
	}{
		{
			name: "a YAML job",
			src:  "# a comment\nname: a\ntasks:\n  - id: x\n    request:\n      url: https://gw.example/\n",
			want: map[int]map[string]int{0: {"": 2, "name": 2, "tasks": 3, "tasks[0]": 4, "tasks[0].request.url": 6, "tasks[0].request.url.nothing": 6}},
		},
		{
			name: "a YAML list",
			src:  "- name: a\n  tasks: [{request: {url: u}}]\n- name: b\n  tasks:\n    - request: {url: u}\n",
			want: map[int]map[string]int{0: {"": 1, "tasks[0].request.url": 2}, 1: {"": 3, "name": 3, "tasks[0].request.url": 5}},
		},
		{
			name: "YAML documents",
			src:  "name: a\ntasks: []\n---\n---\n- name: b\n  tasks: []\n- name: c\n  tasks: []\n",
			want: map[int]map[string]int{0: {"name": 1}, 1: {"name": 5}, 2: {"name": 7}},
		},
		{
			name: "an anchor and its alias",
			src:  "- name: a\n  labels: &l {site: \"17\"}\n  tasks: []\n- name: b\n  labels: *l\n  tasks: []\n",
			want: map[int]map[string]int{1: {"labels": 5}},
		},
		{
			name: "JSON with tabs and escapes",
			src:  "{\n\t\"name\": \"a\\/b\",\n\t\"tasks\": [\n\t\t{\"request\": {\"url\": \"u\"}},\n\t\t{\"request\":\n\t\t\t{\"url\": \"v\"}}\n\t]\n}\n",
			want: map[int]map[string]int{0: {"": 1, "name": 2, "tasks": 3, "tasks[0]": 4, "tasks[1].request": 5, "tasks[1].request.url": 6}},
		},
		{
			name: "a JSON list",
			src:  "[\n {\"name\": \"a\", \"tasks\": []},\n {\"name\": \"b\",\n  \"tasks\": []}\n]",
			want: map[int]map[string]int{0: {"": 2, "name": 2}, 1: {"": 3, "tasks": 4}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs, err := readJobFile("f", strings.NewReader(tc.src))
			require.NoError(t, err)
			for i, paths := range tc.want {
				require.Greater(t, len(jobs), i)
				for path, line := range paths {
					require.Equal(t, line, jobs[i].lineOf(path), "job %d, %q", i, path)
				}
			}
		})
	}
}

func TestReadJobFileRefusesWhatJSONCannotSay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"a YAML key given twice", "name: a\ntasks: []\nname: b\n", "f:3: name: given twice (first on line 1)"},
		{"a JSON key given twice", "{\"name\": \"a\",\n \"name\": \"b\"}", "f:2: name: given twice (first on line 1)"},
		{"a key that is not a string", "name: a\n? [1, 2]\n: x\n", "f:2: keys must be strings"},
		{"infinity", "name: a\nrate: .inf\n", "f:2: rate: .inf is not a JSON number"},
		{"a scalar document", "just text\n", "f:1: a job file holds a job (a mapping) or a list of jobs"},
		{"nothing", "# only a comment\n", "f:1: no job in the file"},
		{"broken YAML", "name: a\n  tasks: [\n", "f:2: not valid YAML"},
		{"broken JSON", "{\"name\": \"a\",\n\"tasks\": ]}", "f:2: not valid JSON"},
		{"JSON and more", "{\"name\": \"a\"}\n{}", "unexpected data after the JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := readJobFile("f", strings.NewReader(tc.src))
			require.ErrorContains(t, err, tc.want)
		})
	}
}
