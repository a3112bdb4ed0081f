package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"code.dny.dev/ssrf"
)

// ErrTargetRefused is wrapped by every error about a target address the SSRF
// guard refuses, at dial time (Result.Err) or at registration (CheckURL).
var ErrTargetRefused = errors.New("target address refused")

// allowedNetworksSetting names the setting that fills Config.AllowedNetworks,
// so that refusals tell operators how to allow a network.
const allowedNetworksSetting = "HERALD_ALLOWED_TARGET_NETWORKS"

// guard decides which addresses the Client may connect to. It is safe for
// concurrent use.
type guard struct {
	ssrf *ssrf.Guardian
}

// newGuard returns a guard that refuses what code.dny.dev/ssrf refuses by
// default, except addresses within allowed. Ports are not restricted:
// receivers commonly listen on ports other than 80 and 443.
func newGuard(allowed []netip.Prefix) *guard {
	var v4, v6 []netip.Prefix
	for _, p := range allowed {
		p = unmapPrefix(p).Masked()
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return &guard{ssrf: ssrf.New(
		ssrf.WithAnyPort(),
		ssrf.WithAllowedV4Prefixes(v4...),
		ssrf.WithAllowedV6Prefixes(v6...),
	)}
}

// control is the net.Dialer's ControlContext: it runs for every address a
// connection is attempted to, after DNS resolution and before connecting, and
// refuses (fail-closed) anything it cannot positively allow.
func (g *guard) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %q is not allowed", ErrTargetRefused, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q: %w", ErrTargetRefused, address, err)
	}
	return g.check(ap.Addr())
}

// check returns an error wrapping ErrTargetRefused if addr must not be
// connected to. IPv4-mapped IPv6 addresses are judged as IPv4 and zones are
// ignored, so that allowed networks match them.
func (g *guard) check(addr netip.Addr) error {
	addr = addr.Unmap().WithZone("")
	if err := g.ssrf.SafeAddr(addr); err != nil {
		return fmt.Errorf("%w: %s is a loopback, private, link-local, multicast, cloud-metadata or otherwise reserved address; an operator can allow its network with %s (%w)",
			ErrTargetRefused, addr, allowedNetworksSetting, err)
	}
	return nil
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:0:0/96 and longer)
// into the equivalent IPv4 prefix, and returns any other prefix unchanged.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}
