package dispatch

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/idna"
)

// CheckURL is the check made when a target URL is registered: an absolute
// http or https URL, with a host and a valid port if any, without userinfo.
// A host that is an IP literal, a number that browsers and C resolvers read
// as an IPv4 address ("2130706433", "0x7f.1", "0177.0.0.1", "127.0.0.1.":
// judged by the address it denotes, and sent to that address), or
// "localhost" (or a name under .localhost), is refused when the SSRF guard
// would refuse it at dial time; the error then wraps ErrTargetRefused. A
// host that ends in a number without being a valid IPv4 address ("1.2.3.256")
// is refused. Non-ASCII names are judged by their IDNA (punycode) form, the
// one Go's client looks up. Other hostnames are not resolved here: what they
// resolve to when a delivery dials is what counts. The error's message is
// meant for the API user.
func (c *Client) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // The user knows which URL they sent.
		}
		return fmt.Errorf("URL is not valid: %w", err)
	}
	if u.Scheme == "" {
		return errors.New("URL must be absolute, starting with http:// or https://")
	}
	if err := checkScheme(u.Scheme); err != nil {
		return err
	}
	if u.User != nil {
		return errors.New("URL must not contain a user name or password; send credentials in a header instead")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("URL has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("URL port %q is not valid: it must be between 1 and 65535", p)
		}
	}

	host, err = asciiHost(host)
	if err != nil {
		return err
	}
	if h, err := httpguts.PunycodeHostPort(u.Host); err != nil || !httpguts.ValidHostHeader(h) {
		return fmt.Errorf("URL host %q is not a valid host name", u.Hostname())
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return c.guard.check(addr)
	}
	switch addr, numeric, err := parseIPv4Host(host); {
	case err != nil:
		return fmt.Errorf("URL host %w", err)
	case numeric:
		if err := c.guard.check(addr); err != nil {
			return fmt.Errorf("URL host %q is the IPv4 address %s: %w", host, addr, err)
		}
		return nil // sent to addr (see canonicalHost)
	}
	if isLocalhost(host) {
		// A delivery falls back from one resolved address to the next, so
		// localhost is reachable if either loopback address is allowed.
		v4err := c.guard.check(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
		if v4err == nil || c.guard.check(netip.IPv6Loopback()) == nil {
			return nil
		}
		return fmt.Errorf("%s is a loopback name: %w", host, v4err)
	}
	return nil
}

// asciiHost returns host as Go's client resolves it: its IDNA (punycode)
// form when it is not ASCII, so that "１２７.０.０.１" is judged as
// 127.0.0.1.
func asciiHost(host string) (string, error) {
	for i := range len(host) {
		if host[i] >= utf8.RuneSelf {
			ascii, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", fmt.Errorf("URL host %q is not a valid internationalised domain name: %w", host, err)
			}
			return ascii, nil
		}
	}
	return host, nil
}

// checkScheme refuses any scheme but http and https (url.Parse lowercases
// schemes).
func checkScheme(scheme string) error {
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("URL scheme %q is not allowed: use http or https", scheme)
	}
	return nil
}

// isLocalhost reports whether host is "localhost" or a name under
// ".localhost", which resolve to loopback addresses (RFC 6761).
func isLocalhost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
