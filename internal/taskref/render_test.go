package taskref

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// results are the upstream results the render tests use.
var results = map[string]Result{
	"fetch": {Status: 200, Body: json.RawMessage(`{
		"token": "abc/def?x=1&y=2",
		"count": 3,
		"big": 12345678901234567890,
		"ratio": 1.50,
		"ok": true,
		"none": null,
		"items": [{"token": "t0"}, {"token": "t1"}],
		"nested": {"a": [1, 2], "s": "line\nbreak", "tab": "a\tb", "0": "zero"},
		"html": "<a & b>",
		"unicode": "caf\u00e9 \ud83d\ude00"
	}`)},
	"text":  {Status: 503},
	"list":  {Status: 201, Body: json.RawMessage(`[10, "x"]`)},
	"quote": {Status: 200, Body: json.RawMessage(`"say \"hi\""`)},
}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"no template", "Bearer static", "Bearer static"},
		{"string content", "Bearer {{ tasks.fetch.body.token }}", "Bearer abc/def?x=1&y=2"},
		{"status", "{{tasks.text.status}}", "503"},
		{"number as written", "{{ tasks.fetch.body.big }}/{{ tasks.fetch.body.ratio }}", "12345678901234567890/1.50"},
		{"boolean and null", "{{ tasks.fetch.body.ok }} {{ tasks.fetch.body.none }}", "true null"},
		{"object compacted", "{{ tasks.fetch.body.items.1 }}", `{"token":"t1"}`},
		{"array compacted", "{{ tasks.fetch.body.nested.a }}", "[1,2]"},
		{"array index", "{{ tasks.fetch.body.items.0.token }}", "t0"},
		{"digit key in object", "{{ tasks.fetch.body.nested.0 }}", "zero"},
		{"tab allowed", "{{ tasks.fetch.body.nested.tab }}", "a\tb"},
		{"string body", "{{ tasks.quote.body }}", `say "hi"`},
		{"array body", "{{ tasks.list.body.1 }}{{ tasks.list.body.0 }}", "x10"},
		{"unicode decoded", "{{ tasks.fetch.body.unicode }}", "café 😀"},
		{"escape", "{{ '{{' }}literal}} {{ tasks.list.status }}", "{{literal}} 201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(tt.in, results)
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"no result", "{{ tasks.gone.status }}", "{{ tasks.gone.status }}: task gone has no result"},
		{"body not JSON", "{{ tasks.text.body.x }}", "{{ tasks.text.body.x }}: response of task text is not JSON"},
		{"whole body not JSON", "{{tasks.text.body}}", "{{ tasks.text.body }}: response of task text is not JSON"},
		{"missing key", "{{ tasks.fetch.body.tokn }}", `{{ tasks.fetch.body.tokn }}: response of task fetch has no key "tokn"`},
		{"missing nested key", "{{ tasks.fetch.body.items.1.id }}",
			`{{ tasks.fetch.body.items.1.id }}: response of task fetch has no key "id" in body.items.1`},
		{"index out of range", "{{ tasks.fetch.body.items.2 }}",
			"{{ tasks.fetch.body.items.2 }}: response of task fetch has no index 2 in body.items (length 2)"},
		{"huge index", "{{ tasks.list.body.99999999999999999999999 }}",
			"{{ tasks.list.body.99999999999999999999999 }}: response of task list has no index 99999999999999999999999 in body (length 2)"},
		{"key on array", "{{ tasks.fetch.body.items.token }}",
			`{{ tasks.fetch.body.items.token }}: response of task fetch has an array at body.items, not an object with key "token"`},
		{"leading zero on array", "{{ tasks.list.body.01 }}",
			`{{ tasks.list.body.01 }}: response of task list has an array at body, not an object with key "01"`},
		{"into a string", "{{ tasks.fetch.body.token.x }}",
			"{{ tasks.fetch.body.token.x }}: response of task fetch has a string at body.token, not an object or array"},
		{"into a number", "{{ tasks.fetch.body.count.0 }}",
			"{{ tasks.fetch.body.count.0 }}: response of task fetch has a number at body.count, not an object or array"},
		{"into null", "{{ tasks.fetch.body.none.x }}",
			"{{ tasks.fetch.body.none.x }}: response of task fetch has null at body.none, not an object or array"},
		{"line break in header", "x-{{ tasks.fetch.body.nested.s }}",
			`{{ tasks.fetch.body.nested.s }}: value "line\nbreak" contains a control character, which a header value cannot hold`},
		{"syntax", "{{ tasks.fetch.bod }}",
			`template syntax error at byte 15 of "{{ tasks.fetch.bod }}": unknown field "bod", want status or body (or a fleet task's devices, succeeded, failed or cancelled)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(tt.in, results)
			require.Empty(t, got)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestRefErrorIsTyped(t *testing.T) {
	t.Parallel()
	_, err := Render("{{ tasks.fetch.body.nope }}", results)
	var re *RefError
	require.True(t, errors.As(err, &re))
	want := Ref{Task: "fetch", Field: "body", Path: []string{"nope"}}
	require.Equal(t, want, re.Ref, "got %v, want %v", re.Ref, want)
	require.Equal(t, `response of task fetch has no key "nope"`, re.Reason)
}

func TestRenderHeaderRejectsControlCharacters(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`"a\rb"`, `"a\nb"`, `"\u0000"`, `"\u007f"`, `"\u001b[31m"`} {
		res := map[string]Result{"a": {Body: json.RawMessage(body)}}
		_, err := Render("{{ tasks.a.body }}", res)
		require.ErrorContains(t, err, "contains a control character", "body %s", body)
	}
}

func TestRenderURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"no template", "https://gw.example/a?b=c", "https://gw.example/a?b=c"},
		{"path segment", "https://api.example/tokens/{{ tasks.fetch.body.token }}/check",
			"https://api.example/tokens/abc%2Fdef%3Fx=1&y=2/check"},
		{"query value", "https://api.example/check?t={{ tasks.fetch.body.token }}&n={{ tasks.fetch.body.count }}",
			"https://api.example/check?t=abc%2Fdef%3Fx%3D1%26y%3D2&n=3"},
		{"path and query", "https://api.example/{{ tasks.fetch.body.unicode }}?q={{ tasks.fetch.body.unicode }}",
			"https://api.example/caf%C3%A9%20%F0%9F%98%80?q=caf%C3%A9+%F0%9F%98%80"},
		{"value with question mark stays in path", "https://x.example/{{ tasks.fetch.body.token }}/{{ tasks.fetch.body.html }}",
			"https://x.example/abc%2Fdef%3Fx=1&y=2/%3Ca%20&%20b%3E"},
		{"fragment", "https://x.example/p?a=1#{{ tasks.fetch.body.html }}", "https://x.example/p?a=1#%3Ca%20&%20b%3E"},
		{"fragment without query", "https://x.example/p#{{ tasks.fetch.body.token }}", "https://x.example/p#abc%2Fdef%3Fx=1&y=2"},
		{"status", "https://x.example/s/{{ tasks.list.status }}", "https://x.example/s/201"},
		{"line break escaped", "https://x.example/?m={{ tasks.fetch.body.nested.s }}", "https://x.example/?m=line%0Abreak"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RenderURL(tt.in, results)
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestRenderURLErrors(t *testing.T) {
	t.Parallel()
	_, err := RenderURL("https://x.example/{{ tasks.fetch.body.items.9 }}", results)
	require.EqualError(t, err, "{{ tasks.fetch.body.items.9 }}: response of task fetch has no index 9 in body.items (length 2)")
}

func TestRenderJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"status keeps number type", `{"code": "{{ tasks.fetch.status }}"}`, `{"code":200}`},
		{"number keeps its text", `{"n": "{{tasks.fetch.body.big}}", "r": "{{ tasks.fetch.body.ratio }}"}`,
			`{"n":12345678901234567890,"r":1.50}`},
		{"boolean and null", `["{{ tasks.fetch.body.ok }}", "{{ tasks.fetch.body.none }}"]`, `[true,null]`},
		{"object", `{"first": "{{ tasks.fetch.body.items.0 }}"}`, `{"first":{"token":"t0"}}`},
		{"array", `{"all": "{{ tasks.fetch.body.items }}"}`, `{"all":[{"token":"t0"},{"token":"t1"}]}`},
		{"string stays a string", `{"t": "{{ tasks.fetch.body.token }}"}`, `{"t":"abc/def?x=1&y=2"}`},
		{"whole body", `{"copy": "{{ tasks.list.body }}"}`, `{"copy":[10,"x"]}`},
		{"interpolation makes a string", `{"m": "code {{ tasks.fetch.status }}: {{ tasks.fetch.body.items.1 }}"}`,
			`{"m":"code 200: {\"token\":\"t1\"}"}`},
		{"space around braces interpolates", `{"m": " {{ tasks.fetch.status }}"}`, `{"m":" 200"}`},
		{"interpolated string escaped", `{"m": "> {{ tasks.fetch.body.nested.s }} {{ tasks.quote.body }} {{ tasks.fetch.body.html }}"}`,
			`{"m":"> line\nbreak say \"hi\" <a & b>"}`},
		{"unicode", `{"u": "{{ tasks.fetch.body.unicode }}!"}`, `{"u":"café 😀!"}`},
		{"keys untouched", `{"{{ tasks.fetch.status }}": 1}`, `{"{{ tasks.fetch.status }}":1}`},
		{"compacted, other values kept", "{\n  \"a\" : [ 1.0 , \"x y\\n\" , {} , [ ] ],\n  \"b\": \"{{ tasks.list.status }}\"\n}",
			`{"a":[1.0,"x y\n",{},[]],"b":201}`},
		{"escaped braces", `{"c": "\u007b\u007b tasks.fetch.status }}"}`, `{"c":200}`},
		{"escape", `{"m": "{{ '{{' }}name}}"}`, `{"m":"{{name}}"}`},
		{"root string", `"{{ tasks.fetch.body.nested }}"`, `{"a":[1,2],"s":"line\nbreak","tab":"a\tb","0":"zero"}`},
		{"deep nesting", `[[[{"a": [{"b": "{{ tasks.fetch.body.count }}"}]}]]]`, `[[[{"a":[{"b":3}]}]]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RenderJSON([]byte(tt.in), results)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got), "got %s, want %s", got, tt.want)
			require.True(t, json.Valid(got))
		})
	}
}

func TestRenderJSONWithoutTemplateReturnsInput(t *testing.T) {
	doc := []byte(`{"a": [1, "x {"], "b": {}}`)
	got, err := RenderJSON(doc, nil)
	require.NoError(t, err)
	require.Same(t, &doc[0], &got[0], "got a copy, want the input itself")
	if raceEnabled {
		t.Skip("allocations are not deterministic under the race detector")
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = RenderJSON(doc, nil)
		_, _ = Render("static", nil)
		_, _ = RenderURL("https://x.example/a?b=c", nil)
	})
	require.Zero(t, allocs, "got %v allocations, want 0", allocs)
}

func TestRenderJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"missing key", `{"t": "{{ tasks.fetch.body.token2 }}"}`,
			`{{ tasks.fetch.body.token2 }}: response of task fetch has no key "token2"`},
		{"missing key interpolated", `{"t": "x {{ tasks.fetch.body.token2 }}"}`,
			`{{ tasks.fetch.body.token2 }}: response of task fetch has no key "token2"`},
		{"not JSON", `["{{ tasks.text.body }}"]`, "{{ tasks.text.body }}: response of task text is not JSON"},
		{"no result", `["{{ tasks.nobody.status }}"]`, "{{ tasks.nobody.status }}: task nobody has no result"},
		{"invalid document", `{"a": "{{ tasks.fetch.status }}"`, "invalid JSON document: unexpected end of JSON input"},
		{"invalid document without template", `[1,]`, "invalid JSON document: invalid character ']' looking for beginning of value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RenderJSON([]byte(tt.in), results)
			require.Nil(t, got)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestRenderJSONInvalidUTF8(t *testing.T) {
	t.Parallel()
	res := map[string]Result{
		"s": {Body: json.RawMessage("\"\xff\"")},
		"o": {Body: json.RawMessage("{\"k\": \"\xff\"}")},
	}
	got, err := RenderJSON([]byte(`{"s": "x{{ tasks.s.body }}", "o": "x{{ tasks.o.body }}"}`), res)
	require.NoError(t, err)
	want := "{\"s\":\"x\ufffd\",\"o\":\"x{\\\"k\\\":\\\"\ufffd\\\"}\"}"
	require.Equal(t, want, string(got), "got %s, want %s", got, want)
}

func FuzzRenderJSON(f *testing.F) {
	for _, s := range []string{
		`{"a": "{{ tasks.fetch.body.items }}"}`, `["x {{ tasks.fetch.status }}", 1, null]`,
		`{"{{": "{{ '{{' }}"}`, `"\u007b{ tasks.quote.body }}"`, `{"a":{"b":["{{tasks.list.body.1}}\u0001"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := RenderJSON(doc, results)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("RenderJSON(%q) = %q, not valid JSON", doc, out)
		}
		if _, err := ParseJSON(doc); err != nil && !strings.Contains(err.Error(), "syntax") {
			t.Fatalf("ParseJSON failed where RenderJSON succeeded: %v", err)
		}
	})
}

func TestRenderInput(t *testing.T) {
	t.Parallel()
	with := map[string]Result{
		"fetch":  {Status: 200, Body: json.RawMessage(`{"n": 1}`)},
		InputKey: {Body: json.RawMessage(`{"region": "eu-1", "ids": [7, 8], "deep": {"x": null}}`)},
	}
	tests := []struct {
		name, in, want string
	}{
		{"typed value", `{"ids": "{{ input.ids }}", "first": "{{ input.ids.0 }}"}`, `{"ids":[7,8],"first":7}`},
		{"whole input", `{"all": "{{ input }}"}`, `{"all":{"region":"eu-1","ids":[7,8],"deep":{"x":null}}}`},
		{"mixed with tasks", `{"m": "{{ input.region }}/{{ tasks.fetch.body.n }}"}`, `{"m":"eu-1/1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RenderJSON([]byte(tt.in), with)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got), "got %s, want %s", got, tt.want)
		})
	}
	got, err := RenderURL("https://x.example/{{ input.region }}?q={{ input.deep.x }}", with)
	require.NoError(t, err)
	require.Equal(t, "https://x.example/eu-1?q=null", got)
}

func TestRenderInputErrors(t *testing.T) {
	t.Parallel()
	in := map[string]Result{InputKey: {Body: json.RawMessage(`{"region": "eu", "ids": [1]}`)}}
	tests := []struct {
		name    string
		in      string
		results map[string]Result
		want    string
	}{
		{"no input", "{{ input.region }}", map[string]Result{}, "{{ input.region }}: the run has no input"},
		{"missing key", "{{ input.zone }}", in, `{{ input.zone }}: the run's input has no key "zone"`},
		{"missing nested", "{{ input.ids.3 }}", in, "{{ input.ids.3 }}: the run's input has no index 3 in input.ids (length 1)"},
		{"into a string", "{{ input.region.x }}", in, "{{ input.region.x }}: the run's input has a string at input.region, not an object or array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Render(tt.in, tt.results)
			require.EqualError(t, err, tt.want)
		})
	}
}
