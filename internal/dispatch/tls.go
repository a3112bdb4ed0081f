package dispatch

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
)

// TLS is a delivery's own TLS settings, for devices that require a client
// certificate (mTLS) or present a certificate from a private CA. All fields
// are PEM.
type TLS struct {
	// ClientCertificate is presented to the server (with ClientKey).
	ClientCertificate string
	// ClientKey is ClientCertificate's private key.
	ClientKey string
	// CACertificates, if set, replace the system roots to verify the server.
	CACertificates string
}

// ParseTLS checks t and returns the tls.Config it stands for; the errors
// say which part does not parse.
func ParseTLS(t *TLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case t.ClientCertificate != "" && t.ClientKey != "":
		pair, err := tls.X509KeyPair([]byte(t.ClientCertificate), []byte(t.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("client certificate and key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case t.ClientCertificate != "" || t.ClientKey != "":
		return nil, errors.New("client certificate and client key go together")
	}
	if t.CACertificates != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(t.CACertificates)) {
			return nil, errors.New("CA certificates: no PEM certificate found")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// maxTLSClients bounds the per-TLS-settings clients kept; past it they are
// dropped and rebuilt as needed.
const maxTLSClients = 256

// clientFor returns the HTTP client for t: the shared one when t is nil,
// else one with its own transport (same dialer and SSRF guard, connections
// reused across deliveries with the same settings), built once per distinct
// settings.
func (c *Client) clientFor(t *TLS) (*http.Client, error) {
	if t == nil {
		return c.http, nil
	}
	key := sha256.Sum256([]byte(t.ClientCertificate + "\x00" + t.ClientKey + "\x00" + t.CACertificates))
	c.tlsMu.Lock()
	defer c.tlsMu.Unlock()
	if hc, ok := c.tlsClients[key]; ok {
		return hc, nil
	}
	cfg, err := ParseTLS(t)
	if err != nil {
		return nil, err
	}
	tr := c.transport.Clone()
	tr.TLSClientConfig = cfg
	hc := &http.Client{Transport: c.wrap(tr), CheckRedirect: c.http.CheckRedirect}
	if len(c.tlsClients) >= maxTLSClients {
		for _, old := range c.tlsClients {
			old.CloseIdleConnections()
		}
		clear(c.tlsClients)
	}
	c.tlsClients[key] = hc
	return hc, nil
}
