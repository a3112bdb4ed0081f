package taskref

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Ref
	}{
		{"no template", "https://example.com/a}}b{", nil},
		{"status", "{{ tasks.fetch.status }}", []Ref{{Task: "fetch", Field: "status"}}},
		{"no spaces", "{{tasks.fetch.status}}", []Ref{{Task: "fetch", Field: "status"}}},
		{"tabs and newlines", "{{\t\n tasks.a.body\r\n}}", []Ref{{Task: "a", Field: "body"}}},
		{"whole body", "x={{ tasks.a.body }}", []Ref{{Task: "a", Field: "body"}}},
		{"path", "{{ tasks.fetch.body.items.0.token }}",
			[]Ref{{Task: "fetch", Field: "body", Path: []string{"items", "0", "token"}}}},
		{"id and key characters", "{{ tasks.Get_1-x.body.a-b_C.007 }}",
			[]Ref{{Task: "Get_1-x", Field: "body", Path: []string{"a-b_C", "007"}}}},
		{"several in order with a repeat", "a{{tasks.x.status}}b{{ tasks.y.body.k }}{{tasks.x.status}}",
			[]Ref{{Task: "x", Field: "status"}, {Task: "y", Field: "body", Path: []string{"k"}}, {Task: "x", Field: "status"}}},
		{"minus sign makes a member name", "{{ tasks.a.body.items.-1 }}",
			[]Ref{{Task: "a", Field: "body", Path: []string{"items", "-1"}}}},
		{"escape only", "{{ '{{' }}", nil},
		{"escape without spaces", "{{'{{'}}name}}", nil},
		{"escape next to a reference", "{{ '{{' }}{{ tasks.a.status }}}}", []Ref{{Task: "a", Field: "status"}}},
		{"whole input", "{{ input }}", []Ref{{Field: "input"}}},
		{"input path", "{{input.items.0.name}}", []Ref{{Field: "input", Path: []string{"items", "0", "name"}}}},
		{"64-character id", "{{ tasks." + strings.Repeat("i", 64) + ".status }}",
			[]Ref{{Task: strings.Repeat("i", 64), Field: "status"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("i", 65)
	tests := []struct {
		name        string
		in          string
		wantOffset  int
		wantExcerpt string
		wantMsg     string
	}{
		{"empty tag", "a {{}} b", 4, "{{}} b",
			`want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`},
		{"unknown name", "{{ steps.a.status }}", 3, "{{ steps.a.",
			`want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`},
		{"wrong case", "{{ Tasks.a.status }}", 3, "{{ Tasks.a.",
			`want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`},
		{"function", "{{ upper tasks.a.status }}", 3, "{{ upper ta",
			`want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`},
		{"brace before reference", "{{{ tasks.a.status }}", 2, "{{{ tasks.",
			`want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`},
		{"missing id", "{{ tasks..status }}", 9, "{{ tasks..status ",
			`want a task id after "tasks."`},
		{"id too long", "{{ tasks." + long + ".status }}", 9, "{{ tasks.iiiiiiii",
			"task id is longer than 64 characters"},
		{"bad id character", "{{ tasks.a@b.status }}", 10, "{{ tasks.a@b.statu",
			`want ".status" or ".body" after the task id`},
		{"missing field", "{{ tasks.a }}", 10, "{{ tasks.a }}",
			`want ".status" or ".body" after the task id`},
		{"unknown field", "{{ tasks.a.bod }}", 11, "{{ tasks.a.bod }}",
			`unknown field "bod", want status or body (or a fleet task's devices, succeeded, failed or cancelled)`},
		{"headers field", "{{ tasks.a.headers.x }}", 11, "{{ tasks.a.headers.",
			`unknown field "headers", want status or body (or a fleet task's devices, succeeded, failed or cancelled)`},
		{"path on status", "{{ tasks.a.status.code }}", 17, "{{ tasks.a.status.code }}",
			"status has no path"},
		{"empty segment", "{{ tasks.a.body..x }}", 16, "{{ tasks.a.body..x }}",
			"want a member name or an array index after the dot"},
		{"trailing dot", "{{ tasks.a.body. }}", 16, "{{ tasks.a.body. }}",
			"want a member name or an array index after the dot"},
		{"space inside", "{{ tasks.a.body .x }}", 16, "{{ tasks.a.body .x }}",
			`unexpected '.', want "}}"`},
		{"bracket index", "{{ tasks.a.body.items[0] }}", 21, "{{ tasks.a.body.items[0] }}",
			`unexpected '[', want "}}"`},
		{"unclosed", "x {{ tasks.a.status", 19, "{{ tasks.a.status",
			`unclosed reference, want "}}"`},
		{"single closing brace", "{{ tasks.a.status }", 18, "{{ tasks.a.status }",
			`unexpected '}', want "}}"`},
		{"input-like word", "{{ inputs.a }}", 3, "{{ inputs.a", `want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`},
		{"input empty segment", "{{ input. }}", 9, "{{ input. }}", "want a member name or an array index after the dot"},
		{"lone opening", "{{", 2, "{{", `want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`},
		{"other quoted text", "{{ 'x' }}", 3, "{{ 'x' }}", "the only quoted text is '{{', the escape for a literal {{"},
		{"unclosed escape", "{{ '{{' x", 8, "{{ '{{' x", `unexpected 'x', want "}}"`},
		{"second reference bad", "{{ tasks.a.status }} and {{ tasks.b.stat }}", 36, "{{ tasks.b.stat }}",
			`unknown field "stat", want status or body (or a fleet task's devices, succeeded, failed or cancelled)`},
		{"excerpt trimmed", "{{ tasks.a.body." + strings.Repeat("k.", 40) + "! }}", 96,
			"k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.! }}", "want a member name or an array index after the dot"},
		{"excerpt on rune boundary", "{{ tasks.a.body.x é }}", 18, "{{ tasks.a.body.x é }}",
			`unexpected 'é', want "}}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refs, err := Parse(tt.in)
			require.Nil(t, refs)
			var got *SyntaxError
			require.True(t, errors.As(err, &got), "got %v, want a *SyntaxError", err)
			want := SyntaxError{Offset: tt.wantOffset, Excerpt: tt.wantExcerpt, Msg: tt.wantMsg}
			require.Equal(t, want, *got, "got %+v, want %+v", *got, want)
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := Parse("{{ tasks.a.bod }}")
	want := `template syntax error at byte 11 of "{{ tasks.a.bod }}": unknown field "bod", want status or body (or a fleet task's devices, succeeded, failed or cancelled)`
	require.EqualError(t, err, want)
	_, err = ParseJSON([]byte(`{"a": [1, {"b/c": "{{ tasks.a.bod }}"}]}`))
	want = `template syntax error in /a/1/b~1c at byte 11 of "{{ tasks.a.bod }}": unknown field "bod", want status or body (or a fleet task's devices, succeeded, failed or cancelled)`
	require.EqualError(t, err, want)
}

func TestRefString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref  Ref
		want string
	}{
		{Ref{Task: "a", Field: "status"}, "{{ tasks.a.status }}"},
		{Ref{Task: "a", Field: "body"}, "{{ tasks.a.body }}"},
		{Ref{Task: "a", Field: "body", Path: []string{"x", "0"}}, "{{ tasks.a.body.x.0 }}"},
		{Ref{Field: "input", Path: []string{"x"}}, "{{ input.x }}"},
	}
	for _, tt := range tests {
		got := tt.ref.String()
		require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		back, err := Parse(got)
		require.NoError(t, err)
		require.Equal(t, []Ref{tt.ref}, back)
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []Ref
	}{
		{"no templates", `{"a": [1, "x", {"b": null}]}`, nil},
		{"values in order", `{"t": "{{ tasks.a.body.token }}", "l": ["{{tasks.b.status}}", 1, "x {{ tasks.c.body }} y"]}`,
			[]Ref{{Task: "a", Field: "body", Path: []string{"token"}}, {Task: "b", Field: "status"}, {Task: "c", Field: "body"}}},
		{"keys are not templates", `{"{{ not a ref }}": "{{ tasks.a.status }}"}`, []Ref{{Task: "a", Field: "status"}}},
		{"escaped braces", `{"t": "\u007b\u007B tasks.a.status }}"}`, []Ref{{Task: "a", Field: "status"}}},
		{"escaped quote before", `["\"{{ tasks.a.status }}\\"]`, []Ref{{Task: "a", Field: "status"}}},
		{"string document", `"{{ tasks.a.status }}"`, []Ref{{Task: "a", Field: "status"}}},
		{"literal escape", `{"m": "{{ '{{' }} name }}"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseJSON([]byte(tt.doc))
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		doc         string
		wantPointer string
		wantErr     string
	}{
		{"syntax in nested value", `{"a": {"b": ["{{ tasks.x.status }}", "{{ tasks.a }}"]}}`, "/a/b/1", ""},
		{"syntax in root string", `"{{ x }}"`, "", ""},
		{"key with tilde", `{"~k": "{{ x }}"}`, "/~0k", ""},
		{"invalid JSON", `{"a": }`, "", "invalid JSON document: invalid character '}' looking for beginning of value"},
		{"truncated JSON", `{"a": "{{ tasks.a.status }}"`, "", "invalid JSON document: unexpected end of JSON input"},
		{"empty", ``, "", "invalid JSON document: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refs, err := ParseJSON([]byte(tt.doc))
			require.Nil(t, refs)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			var got *SyntaxError
			require.ErrorAs(t, err, &got)
			require.Equal(t, tt.wantPointer, got.Pointer, "got %v, want %v", got.Pointer, tt.wantPointer)
		})
	}
}

func TestParseWithoutTemplateDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are not deterministic under the race detector")
	}
	s := strings.Repeat("plain text } { ", 20)
	doc := []byte(`{"a": ["plain", 1, {"b": "text"}]}`)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = Parse(s)
		_, _ = ParseJSON(doc)
	})
	require.Zero(t, allocs, "got %v allocations, want 0", allocs)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "{{", "}}", "{{ tasks.a.status }}", "{{tasks.a.body.x.0}}", "x{{ '{{' }}y",
		"{{ tasks..", "{{ tasks.a.body.", "{{{{}}}}", "{{ tasks.é.status }}", "\xff{{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %T, want *SyntaxError", err)
			}
			if se.Offset < 0 || se.Offset > len(s) || !strings.Contains(s, se.Excerpt) {
				t.Fatalf("bad position %+v for %q", se, s)
			}
			return
		}
		for _, r := range refs {
			back, err := Parse(r.String())
			if err != nil || len(back) != 1 || back[0].String() != r.String() {
				t.Fatalf("ref %v does not round-trip: %v %v", r, back, err)
			}
		}
	})
}

// A fleet task's counts are named directly, as its body's members.
func TestFleetCounts(t *testing.T) {
	t.Parallel()
	refs, err := Parse("{{ tasks.update.failed }} of {{ tasks.update.devices }}")
	require.NoError(t, err)
	require.Equal(t, []Ref{
		{Task: "update", Field: FieldBody, Path: []string{"failed"}, FleetCount: true},
		{Task: "update", Field: FieldBody, Path: []string{"devices"}, FleetCount: true},
	}, refs)
	_, err = Parse("{{ tasks.update.failed.x }}")
	require.ErrorContains(t, err, "failed has no path")
}
