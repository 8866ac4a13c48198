package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// ErrRefused is wrapped by every refusal of a webhook URL or address: a
// delivery refused so is not tried again.
var ErrRefused = errors.New("webhook refused")

// Guard decides where webhooks may go, so that a webhook URL cannot reach
// the gateway's own network (SSRF): loopback, private, link-local,
// multicast, unspecified, reserved and cloud-metadata addresses are
// refused unless an operator allow-lists them. It checks a URL when it is
// given, and the address of every connection as it is dialled (Dialer:
// after DNS resolution, for every redirect), so a name that resolves
// elsewhere later (DNS rebinding) cannot pass.
type Guard struct {
	schemes    []string
	allowCIDRs []netip.Prefix
	allowHosts map[string]bool
	maxURL     int
}

// NewGuard returns the guard of cfg's allow-lists.
func NewGuard(cfg Config) (*Guard, error) {
	g := &Guard{schemes: cfg.Schemes, allowHosts: map[string]bool{}, maxURL: cfg.MaxURLBytes}
	for _, c := range cfg.AllowCIDRs {
		c = strings.TrimSpace(c)
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return nil, fmt.Errorf("allowed CIDR %q: want an address or a prefix such as 10.1.0.0/16", c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		g.allowCIDRs = append(g.allowCIDRs, p.Masked())
	}
	for _, h := range cfg.AllowHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			g.allowHosts[h] = true
		}
	}
	return g, nil
}

// blocked are the ranges refused, each with the class errors name; the
// first that holds an address names it (metadata before link-local).
var blocked = []struct {
	class  string
	prefix netip.Prefix
}{
	{"cloud metadata", netip.MustParsePrefix("169.254.169.254/32")}, // AWS, GCP, Azure, OCI, DigitalOcean
	{"cloud metadata", netip.MustParsePrefix("169.254.170.2/32")},   // AWS ECS task metadata
	{"cloud metadata", netip.MustParsePrefix("100.100.100.200/32")}, // Alibaba Cloud
	{"cloud metadata", netip.MustParsePrefix("168.63.129.16/32")},   // Azure wire server
	{"cloud metadata", netip.MustParsePrefix("fd00:ec2::254/128")},  // AWS over IPv6
	{"unspecified", netip.MustParsePrefix("0.0.0.0/8")},             // "this network"
	{"unspecified", netip.MustParsePrefix("::/128")},
	{"loopback", netip.MustParsePrefix("127.0.0.0/8")},
	{"loopback", netip.MustParsePrefix("::1/128")},
	{"private", netip.MustParsePrefix("10.0.0.0/8")},
	{"private", netip.MustParsePrefix("172.16.0.0/12")},
	{"private", netip.MustParsePrefix("192.168.0.0/16")},
	{"private", netip.MustParsePrefix("fc00::/7")},      // unique local
	{"private", netip.MustParsePrefix("100.64.0.0/10")}, // carrier-grade NAT
	{"link-local", netip.MustParsePrefix("169.254.0.0/16")},
	{"link-local", netip.MustParsePrefix("fe80::/10")},
	{"multicast", netip.MustParsePrefix("224.0.0.0/4")},
	{"multicast", netip.MustParsePrefix("ff00::/8")},
	{"reserved", netip.MustParsePrefix("192.0.0.0/24")},    // IETF protocol assignments
	{"reserved", netip.MustParsePrefix("192.0.2.0/24")},    // documentation
	{"reserved", netip.MustParsePrefix("198.18.0.0/15")},   // benchmarking
	{"reserved", netip.MustParsePrefix("198.51.100.0/24")}, // documentation
	{"reserved", netip.MustParsePrefix("203.0.113.0/24")},  // documentation
	{"reserved", netip.MustParsePrefix("240.0.0.0/4")},     // future use and broadcast
	{"reserved", netip.MustParsePrefix("::/96")},           // IPv4-compatible (deprecated)
	{"reserved", netip.MustParsePrefix("100::/64")},        // discard-only
	{"reserved", netip.MustParsePrefix("2001::/23")},       // IETF protocol assignments (Teredo, ...)
	{"reserved", netip.MustParsePrefix("2001:db8::/32")},   // documentation
	{"reserved", netip.MustParsePrefix("64:ff9b:1::/48")},  // local-use NAT64
	{"reserved", netip.MustParsePrefix("fec0::/10")},       // site-local (deprecated)
}

// Prefixes whose IPv6 addresses carry an IPv4 address, checked as that one.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Class names the refused class of a, or "" when a may be reached.
func Class(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return Class(netip.AddrFrom4([4]byte(b[12:16])))
		case sixTo4.Contains(a):
			return Class(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, r := range blocked {
		if r.prefix.Contains(a) {
			return r.class
		}
	}
	switch { // what the ranges above may miss
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case a.IsUnspecified() || !a.IsValid():
		return "unspecified"
	}
	return ""
}

// CheckAddr refuses an address of a refused class that no allowed CIDR
// holds.
func (g *Guard) CheckAddr(a netip.Addr) error {
	a = a.Unmap().WithZone("")
	c := Class(a)
	if c == "" || slices.ContainsFunc(g.allowCIDRs, func(p netip.Prefix) bool { return p.Contains(a) }) {
		return nil
	}
	return fmt.Errorf("%w: address %s is %s (allow it with WEBHOOK_ALLOW_CIDRS)", ErrRefused, a, c)
}

// HostAllowed says whether host (a name, without port) is allow-listed:
// its addresses are not checked.
func (g *Guard) HostAllowed(host string) bool {
	return g.allowHosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// CheckURL parses a webhook URL and refuses one that is not absolute, has
// a scheme not allowed (https unless WEBHOOK_SCHEMES adds http), carries
// credentials or a fragment, is too long, or names a refused address or
// host (localhost). Names are resolved when dialled (Dialer).
func (g *Guard) CheckURL(raw string) (*url.URL, error) {
	if len(raw) > g.maxURL {
		return nil, fmt.Errorf("%w: the URL is longer than %d bytes (WEBHOOK_MAX_URL_BYTES)", ErrRefused, g.maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL: %v", ErrRefused, err)
	}
	switch {
	case !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%w: %q is not an absolute URL (https://host/path)", ErrRefused, raw)
	case !slices.Contains(g.schemes, u.Scheme):
		return nil, fmt.Errorf("%w: scheme %q is not allowed (WEBHOOK_SCHEMES: %s)", ErrRefused, u.Scheme, strings.Join(g.schemes, ", "))
	case u.User != nil:
		return nil, fmt.Errorf("%w: the URL must not carry credentials (requests are signed)", ErrRefused)
	case u.Fragment != "":
		return nil, fmt.Errorf("%w: the URL must not have a fragment", ErrRefused)
	}
	return u, g.checkHost(u.Hostname())
}

// checkHost refuses a literal address of a refused class and names that
// mean this machine, unless allow-listed.
func (g *Guard) checkHost(host string) error {
	if g.HostAllowed(host) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return g.CheckAddr(a)
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: host %s is loopback (allow it with WEBHOOK_ALLOW_HOSTS)", ErrRefused, host)
	}
	return nil
}
