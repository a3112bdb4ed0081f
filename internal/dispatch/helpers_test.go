package dispatch_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/herald-sched/herald/internal/dispatch"
)

// loopback allows the httptest servers, which listen on 127.0.0.1.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// newClient returns a Client whose idle connections are closed when the test
// ends.
func newClient(t *testing.T, cfg dispatch.Config) *dispatch.Client {
	t.Helper()
	c := dispatch.New(cfg)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// loopbackClient returns a Client allowed to reach the httptest servers.
func loopbackClient(t *testing.T) *dispatch.Client {
	t.Helper()
	return newClient(t, dispatch.Config{AllowedNetworks: loopback})
}

// server is an httptest.Server that counts the connections it accepts and
// the requests it serves.
type server struct {
	*httptest.Server
	conns atomic.Int64
	hits  atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// port returns the port the server listens on.
func (s *server) port(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(s.Listener.Addr().String())
	if err != nil {
		t.Fatalf("server address %q: %v", s.Listener.Addr(), err)
	}
	return port
}
