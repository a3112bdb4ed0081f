package dispatch

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()

	tests := []struct {
		status int
		want   Outcome
	}{
		{100, Permanent}, {101, Permanent}, {103, Permanent}, {199, Permanent},
		{200, Success}, {204, Success}, {299, Success},
		{300, Permanent}, {302, Permanent}, {399, Permanent},
		{400, Permanent}, {404, Permanent}, {407, Permanent}, {426, Permanent}, {451, Permanent}, {499, Permanent},
		{408, Retryable}, {425, Retryable}, {429, Retryable},
		{500, Retryable}, {501, Retryable}, {503, Retryable}, {599, Retryable},
		{0, Permanent}, {600, Permanent}, {999, Permanent},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			got := classify(tt.status)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		o    Outcome
		want string
	}{
		{Success, "success"}, {Retryable, "retryable"}, {Permanent, "permanent"}, {Invalid, "invalid"}, {0, "Outcome(0)"}, {7, "Outcome(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.o.String(), "got %v, want %v", tt.o.String(), tt.want)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "empty", value: "", want: 0},
		{name: "zero", value: "0", want: 0},
		{name: "seconds", value: "30", want: 30 * time.Second},
		{name: "surrounding space", value: " 30 ", want: 30 * time.Second},
		{name: "just under the cap", value: "3599", want: 3599 * time.Second},
		{name: "at the cap", value: "3600", want: time.Hour},
		{name: "above the cap", value: "3601", want: time.Hour},
		{name: "overflowing", value: "99999999999999999999999", want: time.Hour},
		{name: "negative", value: "-1", want: 0},
		{name: "plus sign", value: "+5", want: 0},
		{name: "fraction", value: "1.5", want: 0},
		{name: "trailing garbage", value: "5s", want: 0},
		{name: "IMF-fixdate", value: "Sun, 01 Mar 2026 12:02:00 GMT", want: 2 * time.Minute},
		{name: "RFC 850 date", value: "Sunday, 01-Mar-26 12:00:45 GMT", want: 45 * time.Second},
		{name: "asctime date", value: "Sun Mar  1 12:00:10 2026", want: 10 * time.Second},
		{name: "date now", value: "Sun, 01 Mar 2026 12:00:00 GMT", want: 0},
		{name: "date in the past", value: "Sun, 01 Mar 2026 11:00:00 GMT", want: 0},
		{name: "date beyond the cap", value: "Mon, 02 Mar 2026 12:00:00 GMT", want: time.Hour},
		{name: "not a date", value: "tomorrow", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseRetryAfter(tt.value, now)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestUnmapPrefix(t *testing.T) {
	t.Parallel()

	tests := []struct{ in, want string }{
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:127.0.0.1/128", "127.0.0.1/32"},
		{"::ffff:0.0.0.0/96", "0.0.0.0/0"},
		{"::/0", "::/0"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"fd00::/8", "fd00::/8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := unmapPrefix(netip.MustParsePrefix(tt.in)).String()
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestDoHTTP2OverTLS(t *testing.T) {
	t.Parallel()

	protos := make(chan string, 3)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		protos <- r.Proto
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	c := New(Config{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	t.Cleanup(c.CloseIdleConnections)
	// Trust the test certificate; set before the first request, when the
	// transport reads its TLS configuration.
	c.transport.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}

	for i := range 3 {
		res := c.Do(t.Context(), Request{URL: srv.URL, Body: []byte(`{}`)})
		require.NoError(t, res.Err, "request %d: got %v, want nil", i, res.Err)
		require.Equal(t, Success, res.Outcome, "request %d: got %v, want %v", i, res.Outcome, Success)
		got := <-protos
		require.Equal(t, "HTTP/2.0", got, "request %d: got %v, want %v", i, got, "HTTP/2.0")
	}
}

// send answers as http.Client's Do without its redirect machinery: a 3xx
// as the answer, and errors worded as Do words them.
func TestSendIsClientDo(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close()
	hc := &http.Client{Transport: &http.Transport{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, tc := range []struct {
		name, method, url string
	}{
		{"a redirect is the answer", http.MethodPost, srv.URL + "/hook"},
		{"refused", http.MethodPost, refused.URL + "/hook"},
		{"refused, a password hidden", http.MethodPut, "http://user:secret@" + refused.Listener.Addr().String() + "/hook"},
		{"refused, a user without password", http.MethodDelete, "http://user@" + refused.Listener.Addr().String() + "/hook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			do := func(f func(*http.Request) (*http.Response, error)) (int, string) {
				req, err := http.NewRequest(tc.method, tc.url, nil)
				require.NoError(t, err)
				resp, err := f(req)
				if err != nil {
					return 0, err.Error()
				}
				_ = resp.Body.Close()
				return resp.StatusCode, ""
			}
			gotStatus, gotErr := do(func(r *http.Request) (*http.Response, error) { return send(hc, r) })
			wantStatus, wantErr := do(hc.Do)
			if gotStatus != wantStatus || gotErr != wantErr {
				t.Fatalf("got %d %q, want %d %q", gotStatus, gotErr, wantStatus, wantErr)
			}
		})
	}
}
