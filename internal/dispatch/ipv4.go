package dispatch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// errNotIPv4 is a host that ends in a number, so that browsers and C
// resolvers read it as an IPv4 address, but that is not a valid one.
var errNotIPv4 = errors.New("reads as an IPv4 address but is not a valid one")

// parseIPv4Host reads host the way C's inet_aton, curl and browsers (the
// WHATWG URL standard) do: one to four dot-separated numbers, each decimal,
// octal with a leading 0, or hexadecimal with a leading 0x, the last one
// filling the bytes left ("127.1" is 127.0.0.1, "2130706433" and
// "0x7f000001" too), with one trailing dot allowed. numeric is false for a
// host that is a name (its last label is not a number); a host that ends in
// a number but does not make a valid address gives an error wrapping
// errNotIPv4.
func parseIPv4Host(host string) (addr netip.Addr, numeric bool, err error) {
	host = strings.TrimSuffix(host, ".")
	if !looksNumeric(host[strings.LastIndexByte(host, '.')+1:]) {
		return netip.Addr{}, false, nil // a name, such as hooks.example.com or 1.2.3.example
	}
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, true, fmt.Errorf("%q %w: more than four parts", host, errNotIPv4)
	}
	var v uint64
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return netip.Addr{}, true, fmt.Errorf("%q %w: %q is not a decimal, octal (0...) or hexadecimal (0x...) number", host, errNotIPv4, p)
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, true, fmt.Errorf("%q %w: %q is above 255", host, errNotIPv4, p)
			}
			v |= n << (8 * (3 - i))
			continue
		}
		// The last number fills the bytes the others left.
		if limit := uint64(1) << (8 * (5 - len(parts))); n >= limit {
			return netip.Addr{}, true, fmt.Errorf("%q %w: %q is above %d", host, errNotIPv4, p, limit-1)
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, nil
}

// ipv4Number parses one part of a numeric IPv4 host: 0x (or 0X) and hex
// digits (none is zero, as browsers read it), 0 and octal digits, or decimal
// digits. It refuses anything above 2^32-1.
func ipv4Number(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" || s[0] == '+' || s[0] == '-' || strings.Contains(s, "_") {
		return 0, false // ParseUint's own syntax, which is not inet_aton's
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil || n > 1<<32-1 {
		return 0, false
	}
	return n, true
}

// looksNumeric reports whether s, the last label of a host, is a number to
// a browser, if not necessarily a valid one: decimal digits ("08",
// "4294967296"), or 0x and hex digits ("0x", "0xfffffffff").
func looksNumeric(s string) bool {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return strings.Trim(s[2:], "0123456789abcdefABCDEF") == ""
	}
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// canonicalHost replaces a numeric IPv4 host that is not dotted decimal
// ("2130706433", "0x7f.1", "127.0.0.1.", or any of them in full-width
// digits, which IDNA maps to ASCII) with the address it denotes, as
// browsers do, so that the request goes where CheckURL judged it would (Go's
// resolver would otherwise send the number to DNS). A host that ends in a
// number without being an IPv4 address is an error.
func canonicalHost(r *http.Request) error {
	host, err := asciiHost(r.URL.Hostname())
	if err != nil {
		return err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	addr, numeric, err := parseIPv4Host(host)
	if err != nil || !numeric {
		return err
	}
	if port := r.URL.Port(); port != "" {
		r.URL.Host = net.JoinHostPort(addr.String(), port)
	} else {
		r.URL.Host = addr.String()
	}
	r.Host = r.URL.Host
	return nil
}
