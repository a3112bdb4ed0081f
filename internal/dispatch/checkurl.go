package dispatch

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CheckURL is the check made when a target URL is registered: an absolute
// http or https URL, with a host and a valid port if any, without userinfo.
// A host that is an IP literal, or "localhost" (or a name under .localhost),
// is refused when the SSRF guard would refuse it at dial time; the error then
// wraps ErrTargetRefused. Other hostnames are not resolved here: what they
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

	if addr, err := netip.ParseAddr(host); err == nil {
		return c.guard.check(addr)
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
