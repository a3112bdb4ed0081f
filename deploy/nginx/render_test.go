package nginx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShippedConfigurationPassesNginxTest renders the shipped herald.conf
// for loopback and has the machine's nginx check it (nginx -t).
func TestShippedConfigurationPassesNginxTest(t *testing.T) {
	t.Parallel()
	bin, err := FindBinary()
	if errors.Is(err, ErrNoNginx) {
		t.Skip("nginx is not installed (apt-get install nginx; .ci/run installs it): the shipped configuration is not checked")
	}
	require.NoError(t, err)
	conf, err := Render(Site{
		Dir:       filepath.Join(t.TempDir(), "nginx"),
		Listen:    "127.0.0.1:18080",
		Upstreams: []string{"127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"},
	})
	require.NoError(t, err)
	require.NoError(t, Test(t.Context(), bin, conf))
}

func TestRenderChangesOnlyTheListenLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Render(Site{Dir: dir, Listen: "127.0.0.1:9", Upstreams: []string{"127.0.0.1:1"}})
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(dir, SiteFile))
	require.NoError(t, err)
	rendered := strings.Split(string(raw), "\n")
	shipped := strings.Split(shippedSite, "\n")
	require.Len(t, rendered, len(shipped))
	var changed []string
	for i := range shipped {
		if rendered[i] != shipped[i] {
			changed = append(changed, strings.TrimSpace(shipped[i])+" -> "+strings.TrimSpace(rendered[i]))
		}
	}
	require.Equal(t, []string{"listen 80; -> listen 127.0.0.1:9;"}, changed)
}

func TestRenderUpstreams(t *testing.T) {
	t.Parallel()
	shipped := "# comment\nserver 10.0.0.1:8080 max_fails=2 fail_timeout=5s;\n  server 10.0.0.2:8080 backup ;\n"
	cases := []struct {
		name  string
		addrs []string
		want  []string
	}{
		{
			name:  "one replica takes the first line's parameters",
			addrs: []string{"127.0.0.1:1"},
			want:  []string{"server 127.0.0.1:1 max_fails=2 fail_timeout=5s;"},
		},
		{
			name:  "more replicas than lines cycle through them",
			addrs: []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"},
			want: []string{
				"server 127.0.0.1:1 max_fails=2 fail_timeout=5s;",
				"server 127.0.0.1:2 backup ;",
				"server 127.0.0.1:3 max_fails=2 fail_timeout=5s;",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := renderUpstreams(shipped, tc.addrs)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(got), "\n")
			require.Equal(t, tc.want, lines[1:], "after the comment line")
		})
	}
}

func TestRenderRefusesUnrenderableFiles(t *testing.T) {
	t.Parallel()
	_, err := renderSite("server {\n    listen 80;\n    listen [::]:80;\n}\n", "127.0.0.1:1")
	require.ErrorContains(t, err, "2 listen lines")
	_, err = renderUpstreams("# nothing\n", []string{"127.0.0.1:1"})
	require.ErrorContains(t, err, "no server line")
}
