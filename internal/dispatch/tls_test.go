package dispatch_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/testcert"
)

func TestDoMutualTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t)
	srv, serverPEM := testcert.MTLSServer(t, ca)
	certPEM, keyPEM := ca.ClientCert(t, "herald")
	c := loopbackClient(t)

	res := c.Do(t.Context(), dispatch.Request{URL: srv.URL, TLS: &dispatch.TLS{
		ClientCertificate: certPEM, ClientKey: keyPEM, CACertificates: serverPEM,
	}})
	require.NoError(t, res.Err)
	require.Equal(t, dispatch.Success, res.Outcome)
	require.Equal(t, "herald", string(res.Body), "the server saw the client certificate")

	// Without the client certificate the handshake fails.
	res = c.Do(t.Context(), dispatch.Request{URL: srv.URL, TLS: &dispatch.TLS{CACertificates: serverPEM}})
	require.Error(t, res.Err)
	require.Equal(t, 0, res.StatusCode)

	// Without the private CA the server is not trusted.
	res = c.Do(t.Context(), dispatch.Request{URL: srv.URL})
	require.Error(t, res.Err)
}

func TestParseTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t)
	certPEM, keyPEM := ca.ClientCert(t, "herald")
	tests := []struct {
		name    string
		in      dispatch.TLS
		wantErr string
	}{
		{name: "pair and CA", in: dispatch.TLS{ClientCertificate: certPEM, ClientKey: keyPEM, CACertificates: ca.PEM}},
		{name: "CA only", in: dispatch.TLS{CACertificates: ca.PEM}},
		{name: "certificate without key", in: dispatch.TLS{ClientCertificate: certPEM}, wantErr: "go together"},
		{name: "garbage certificate", in: dispatch.TLS{ClientCertificate: "nope", ClientKey: keyPEM}, wantErr: "client certificate"},
		{name: "key of another certificate", in: dispatch.TLS{ClientCertificate: ca.PEM, ClientKey: keyPEM}, wantErr: "client certificate"},
		{name: "garbage CA", in: dispatch.TLS{CACertificates: "-----BEGIN NOTHING-----"}, wantErr: "CA certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := dispatch.ParseTLS(&tt.in)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
