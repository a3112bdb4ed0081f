package dispatch_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
)

func TestDoRefusesReservedTargets(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	port := srv.port(t)

	tests := []struct {
		name    string
		allowed []netip.Prefix
		url     string
	}{
		{name: "loopback httptest server", url: srv.URL + "/hook"},
		{name: "localhost resolves to loopback", url: "http://localhost:" + port + "/hook"},
		{name: "IPv6 loopback", url: "http://[::1]:" + port + "/"},
		{name: "IPv4-mapped loopback", url: "http://[::ffff:127.0.0.1]:" + port + "/"},
		{name: "unspecified address", url: "http://0.0.0.0:" + port + "/"},
		{name: "cloud metadata", url: "http://169.254.169.254/latest/meta-data/"},
		{name: "AWS IPv6 metadata", url: "http://[fd00:ec2::254]/latest/meta-data/"},
		{name: "private network", url: "http://10.0.0.1/"},
		{name: "private network with https", url: "https://192.168.1.1/"},
		{name: "multicast", url: "http://224.0.0.1/"},
		{name: "numeric loopback host", url: "http://0x7f.1:" + port + "/"},
		{name: "numeric metadata host", url: "http://2852039166/latest/meta-data/"},
		{name: "loopback outside the allowed networks", allowed: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, url: srv.URL},
	}
	// The group returns once its parallel subtests are done.
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				c := newClient(t, dispatch.Config{AllowedNetworks: tt.allowed})
				res := c.Do(t.Context(), dispatch.Request{URL: tt.url, Body: []byte("{}")})
				require.Equal(t, dispatch.Permanent, res.Outcome, "got %v, want %v", res.Outcome, dispatch.Permanent)
				require.ErrorIs(t, res.Err, dispatch.ErrTargetRefused, "got %v, want %v", res.Err, dispatch.ErrTargetRefused)
				require.ErrorContains(t, res.Err, "HERALD_ALLOWED_TARGET_NETWORKS", "got %v, want a hint at the setting", res.Err)
				require.Zero(t, res.StatusCode, "got %v, want 0", res.StatusCode)
			})
		}
	})

	// The server accepts connections in order, so once this allowed request
	// is served, any connection a refused request made would be counted.
	res := loopbackClient(t).Do(t.Context(), dispatch.Request{URL: srv.URL})
	require.Equal(t, dispatch.Success, res.Outcome, "got %v (%v), want %v", res.Outcome, res.Err, dispatch.Success)
	require.EqualValues(t, 1, srv.conns.Load(), "got %v connections, want only the allowed one", srv.conns.Load())
	require.EqualValues(t, 1, srv.hits.Load(), "got %v requests, want only the allowed one", srv.hits.Load())
}

func TestDoAllowedNetworks(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	port := srv.port(t)

	tests := []struct {
		name    string
		allowed []string
		url     string
	}{
		{name: "loopback network", allowed: []string{"127.0.0.0/8"}, url: srv.URL},
		{name: "single host", allowed: []string{"127.0.0.1/32"}, url: srv.URL},
		{name: "localhost", allowed: []string{"127.0.0.0/8"}, url: "http://localhost:" + port + "/"},
		{name: "IPv4-mapped prefix", allowed: []string{"::ffff:127.0.0.0/104"}, url: srv.URL},
		{name: "unmasked prefix", allowed: []string{"127.0.0.1/8"}, url: srv.URL},
		{name: "among others", allowed: []string{"10.0.0.0/8", "192.168.0.0/16", "127.0.0.0/8"}, url: srv.URL},
		{name: "numeric host sent to the address it denotes", allowed: []string{"127.0.0.0/8"}, url: "http://0x7f.1:" + port + "/"},
		{name: "decimal number host", allowed: []string{"127.0.0.1/32"}, url: "http://2130706433:" + port + "/"},
		{name: "trailing dot", allowed: []string{"127.0.0.1/32"}, url: "http://127.0.0.1.:" + port + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var allowed []netip.Prefix
			for _, s := range tt.allowed {
				allowed = append(allowed, netip.MustParsePrefix(s))
			}
			c := newClient(t, dispatch.Config{AllowedNetworks: allowed})
			res := c.Do(t.Context(), dispatch.Request{URL: tt.url})
			require.NoError(t, res.Err, "got %v, want nil", res.Err)
			require.Equal(t, dispatch.Success, res.Outcome, "got %v, want %v", res.Outcome, dispatch.Success)
		})
	}
}
