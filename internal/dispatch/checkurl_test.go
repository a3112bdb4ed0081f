package dispatch_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()

	lan := []netip.Prefix{netip.MustParsePrefix("192.168.10.0/24"), netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name        string
		allowed     []netip.Prefix
		url         string
		wantErr     string // empty: accepted
		wantRefused bool   // the error wraps ErrTargetRefused
	}{
		{name: "https hostname", url: "https://hooks.example.com/herald?x=1"},
		{name: "http hostname with port", url: "http://hooks.example.com:8080/in"},
		{name: "public IPv4", url: "https://93.184.216.34/hook"},
		{name: "public IPv6", url: "https://[2606:4700:4700::1111]:8443/hook"},
		{name: "upper case scheme", url: "HTTPS://hooks.example.com/"},
		{name: "hostname is not resolved", url: "http://internal.corp.example/"},

		{name: "ftp", url: "ftp://hooks.example.com/", wantErr: `scheme "ftp" is not allowed`},
		{name: "javascript", url: "javascript:alert(1)", wantErr: `scheme "javascript" is not allowed`},
		{name: "no scheme", url: "hooks.example.com/hook", wantErr: "must be absolute"},
		{name: "empty", url: "", wantErr: "must be absolute"},
		{name: "no host", url: "http:///hook", wantErr: "no host"},
		{name: "port only", url: "http://:8080/hook", wantErr: "no host"},
		{name: "userinfo", url: "https://user:secret@hooks.example.com/", wantErr: "user name or password"},
		{name: "user only", url: "https://user@hooks.example.com/", wantErr: "user name or password"},
		{name: "port zero", url: "http://hooks.example.com:0/", wantErr: `port "0" is not valid`},
		{name: "port too large", url: "http://hooks.example.com:65536/", wantErr: `port "65536" is not valid`},
		{name: "malformed", url: "http://[::1/", wantErr: "URL is not valid"},
		{name: "control character", url: "http://hooks.example.com/\x7f\n", wantErr: "URL is not valid"},

		{name: "loopback", url: "http://127.0.0.1:8080/", wantErr: "127.0.0.1", wantRefused: true},
		{name: "localhost", url: "http://localhost:3000/", wantErr: "localhost is a loopback name", wantRefused: true},
		{name: "localhost upper case with dot", url: "http://LOCALHOST./", wantErr: "loopback name", wantRefused: true},
		{name: "under .localhost", url: "http://api.localhost/", wantErr: "loopback name", wantRefused: true},
		{name: "IPv6 loopback", url: "http://[::1]/", wantErr: "::1", wantRefused: true},
		{name: "IPv4-mapped loopback", url: "http://[::ffff:127.0.0.1]/", wantErr: "127.0.0.1", wantRefused: true},
		{name: "unspecified", url: "http://0.0.0.0/", wantErr: "0.0.0.0", wantRefused: true},
		{name: "private", url: "https://10.1.2.3/", wantErr: "10.1.2.3", wantRefused: true},
		{name: "shared address space", url: "https://100.64.0.1/", wantErr: "100.64.0.1", wantRefused: true},
		{name: "cloud metadata", url: "http://169.254.169.254/latest/meta-data/", wantErr: "169.254.169.254", wantRefused: true},
		{name: "AWS IPv6 metadata", url: "http://[fd00:ec2::254]/", wantErr: "fd00:ec2::254", wantRefused: true},
		{name: "IPv6 link-local with zone", url: "http://[fe80::1%25eth0]/", wantErr: "fe80::1", wantRefused: true},
		{name: "multicast", url: "http://239.1.2.3/", wantErr: "239.1.2.3", wantRefused: true},

		{name: "decimal number host (metadata)", url: "http://2852039166/", wantErr: "169.254.169.254", wantRefused: true},
		{name: "hex number host (metadata)", url: "http://0xa9fea9fe/", wantErr: "169.254.169.254", wantRefused: true},
		{name: "octal parts host (metadata)", url: "http://0251.0376.0251.0376/", wantErr: "169.254.169.254", wantRefused: true},
		{name: "hex parts host (loopback)", url: "http://0x7f.1/", wantErr: "127.0.0.1", wantRefused: true},
		{name: "two parts host", url: "http://127.1:8080/", wantErr: "127.0.0.1", wantRefused: true},
		{name: "decimal number host (loopback)", url: "http://2130706433/", wantErr: "127.0.0.1", wantRefused: true},
		{name: "octal first part", url: "http://0177.0.0.1/", wantErr: "127.0.0.1", wantRefused: true},
		{name: "zero host", url: "http://0/", wantErr: "0.0.0.0", wantRefused: true},
		{name: "trailing dot", url: "http://127.0.0.1./", wantErr: "127.0.0.1", wantRefused: true},
		{name: "full-width digits", url: "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", wantErr: "127.0.0.1", wantRefused: true},
		{name: "number host that is no address", url: "http://1.2.3.256/", wantErr: "not a valid one"},
		{name: "number host above 32 bits", url: "http://4294967296/", wantErr: "not a valid one"},
		{name: "public numeric host", url: "http://1572395042/"},
		{name: "invalid internationalised name", url: "http://a\u200d\u0301b.example/", wantErr: "internationalised"},
		{name: "internationalised name", url: "https://b\u00fccher.example/"},

		{name: "allowed numeric loopback", allowed: lan, url: "http://0x7f.1:8080/hook"},
		{name: "allowed LAN address", allowed: lan, url: "http://192.168.10.7:8080/hook"},
		{name: "allowed localhost", allowed: lan, url: "http://localhost:8080/hook"},
		{name: "LAN address outside the allowed networks", allowed: lan, url: "http://192.168.11.7/", wantErr: "192.168.11.7", wantRefused: true},
		{name: "metadata still refused", allowed: lan, url: "http://169.254.169.254/", wantErr: "169.254.169.254", wantRefused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, dispatch.Config{AllowedNetworks: tt.allowed})
			err := c.CheckURL(tt.url)
			if tt.wantErr == "" {
				require.NoError(t, err, "got %v, want nil", err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr, "got %v, want error containing %q", err, tt.wantErr)
			if tt.wantRefused {
				require.ErrorIs(t, err, dispatch.ErrTargetRefused, "got %v, want %v", err, dispatch.ErrTargetRefused)
				require.ErrorContains(t, err, "HERALD_ALLOWED_TARGET_NETWORKS", "got %v, want a hint at the setting", err)
			} else {
				require.NotErrorIs(t, err, dispatch.ErrTargetRefused, "got %v, want a URL error", err)
			}
		})
	}
}
