package deploycheck

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDockerfile(t *testing.T) {
	t.Parallel()
	const text = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
ARG GO_VERSION
ARG VERSION=devel
ENV CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
RUN go build \
    # a comment inside a continuation
    -trimpath -ldflags="-X main.version=${VERSION}" \
    -o /out/herald ./cmd/herald
FROM scratch
COPY --from=build /out/herald /herald
USER 65532:65532
EXPOSE 8080 9090/tcp
ENTRYPOINT ["/herald", "serve"]
`
	d, err := ParseDockerfile(strings.NewReader(text))
	require.NoError(t, err)
	require.Len(t, d.Stages, 2)
	require.Equal(t, map[string]string{"GO_VERSION": "1.26"}, d.GlobalArgs)
	require.Equal(t, "build", d.Stages[0].Name)
	require.Equal(t, "scratch", d.Final().Base)
	require.Equal(t, "65532:65532", d.Final().User())
	require.Equal(t, []string{"8080", "9090/tcp"}, d.Final().Ports())
	argv, err := d.Final().Entrypoint()
	require.NoError(t, err)
	require.Equal(t, []string{"/herald", "serve"}, argv)

	gb, err := FindGoBuild(d, map[string]string{"VERSION": "v9"})
	require.NoError(t, err)
	require.Equal(t, 7, gb.Instruction.Line)
	require.Equal(t, map[string]string{"CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}, gb.Env)
	require.Equal(t, []string{"build", "-trimpath", "-ldflags=-X main.version=v9", "-o", "/out/herald", "./cmd/herald"}, gb.Args)
	require.Equal(t, "/out/herald", gb.Output)
	require.True(t, gb.Has("-trimpath"))
	require.Equal(t, "-X main.version=v9", gb.Flag("-ldflags"))

	defaults, err := FindGoBuild(d, nil)
	require.NoError(t, err)
	require.Equal(t, "-X main.version=devel", defaults.Flag("-ldflags"))
}

func TestParseDockerfileRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, want string
	}{
		{name: "no FROM", text: "RUN true\n", want: "RUN before the first FROM"},
		{name: "empty", text: "# nothing\n", want: "no FROM"},
		{name: "unfinished continuation", text: "FROM scratch\nRUN go build \\\n", want: "ends inside a continued instruction"},
		{name: "odd FROM", text: "FROM a b c d\n", want: "want IMAGE [AS NAME]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDockerfile(strings.NewReader(tc.text))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestFindGoBuildRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, want string
	}{
		{
			name: "two commands",
			text: "FROM g AS b\nRUN go build -o /out/herald ./cmd/herald && strip /out/herald\nFROM scratch\nCOPY --from=b /out/herald /herald\n",
			want: "more than one simple command",
		},
		{
			name: "unknown variable",
			text: "FROM g AS b\nRUN go build -ldflags=-X=main.version=$NOPE -o /out/herald ./cmd/herald\nFROM scratch\nCOPY --from=b /out/herald /herald\n",
			want: "$NOPE is not set",
		},
		{
			name: "binary not copied",
			text: "FROM g AS b\nRUN go build -o /out/herald ./cmd/herald\nFROM scratch\nCOPY --from=b /out/herald /usr/bin/herald\n",
			want: "copies nothing to /herald",
		},
		{
			name: "copied from elsewhere",
			text: "FROM g AS b\nRUN go build -o /out/other ./cmd/herald\nFROM scratch\nCOPY --from=b /out/herald /herald\n",
			want: "no RUN go build -o /out/herald",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDockerfile(strings.NewReader(tc.text))
			require.NoError(t, err)
			_, err = FindGoBuild(d, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"V": "1.0", "EMPTY": ""}
	lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	for _, tc := range []struct {
		name, in string
		want     []string
		err      string
	}{
		{name: "blanks", in: "  a \t b  ", want: []string{"a", "b"}},
		{name: "double quotes", in: `-ldflags="-s -w"`, want: []string{"-ldflags=-s -w"}},
		{name: "single quotes are literal", in: `'$V \x'`, want: []string{`$V \x`}},
		{name: "expansion", in: `v=$V "${V}"x`, want: []string{"v=1.0", "1.0x"}},
		{name: "empty value keeps the word", in: `a=$EMPTY`, want: []string{"a="}},
		{name: "escapes", in: `a\ b "c\"d" "e\f"`, want: []string{"a b", `c"d`, `e\f`}},
		{name: "empty quotes", in: `a "" b`, want: []string{"a", "", "b"}},
		{name: "unset variable", in: "$NOPE", err: "$NOPE is not set"},
		{name: "command substitution", in: "$(date)", err: "not followed by a name"},
		{name: "backquotes", in: "`date`", err: "more than one simple command"},
		{name: "pipe", in: "a | b", err: "more than one simple command"},
		{name: "unterminated", in: `"a`, err: "unterminated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := shellWords(tc.in, lookup)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
